# Install rules and Debian packages (CPack): seckill-engine, seckill-console, seckill-tools,
# libseckill-dev (installer/library.cmake),
# plus .tar.gz archives of the same. Included from the top-level CMakeLists.txt.
#
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr && cmake --build build
#   (cd build && cpack -G "DEB;TGZ")      # -> build/packages/*.deb, *.tar.gz
#
# The version is the project's (project(seckill VERSION ...)), the one place it is set.
include(GNUInstallDirs)
# `make install` (and cpack) installs what was built instead of building the whole tree first:
# the suite packages the Release build it has just built.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# Paths the packages own, whatever the install prefix: the service's config and unit live where
# Debian looks for them.
set(SECKILL_CONF_DIR /etc/seckill)
set(SECKILL_UNIT_DIR /lib/systemd/system)
set(SECKILL_PKG_DIR ${CMAKE_CURRENT_SOURCE_DIR}/installer/debian)

set(SECKILL_VERSION ${PROJECT_VERSION})
configure_file(${SECKILL_PKG_DIR}/changelog ${CMAKE_BINARY_DIR}/packaging/changelog @ONLY)
execute_process(COMMAND gzip -9n -c ${CMAKE_BINARY_DIR}/packaging/changelog
                OUTPUT_FILE ${CMAKE_BINARY_DIR}/packaging/changelog.gz)

# Documentation every package carries (Debian wants its copyright and changelog).
function(seckill_package_docs component package)
  install(FILES ${SECKILL_PKG_DIR}/copyright ${CMAKE_BINARY_DIR}/packaging/changelog.gz
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${package} COMPONENT ${component})
endfunction()

# Manual pages from each binary's --help (help2man): what `man seckill-engine` shows is what
# --help says, which the README follows.
find_program(SECKILL_HELP2MAN help2man)
function(seckill_man_page target component)
  if(NOT SECKILL_HELP2MAN OR SECKILL_SANITIZE OR NOT TARGET ${target})
    return()
  endif()
  set(page ${CMAKE_BINARY_DIR}/packaging/${target}.1.gz)
  add_custom_command(
    OUTPUT ${page}
    COMMAND ${SECKILL_HELP2MAN} --no-info --no-discard-stderr --version-string=${PROJECT_VERSION}
            --name=${ARGN} $<TARGET_FILE:${target}> | gzip -9n > ${page}
    DEPENDS ${target} VERBATIM)
  add_custom_target(${target}_man ALL DEPENDS ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ${component})
endfunction()

# --- seckill-engine: the engine, seckillctl, the config, the service ---
seckill_man_page(seckill-engine engine "the seckill flash-sale engine")
seckill_man_page(seckillctl engine "command line of the seckill admin API")
install(TARGETS seckill-engine RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT engine)
if(TARGET seckillctl)
  install(TARGETS seckillctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT engine)
endif()
install(FILES assets/config/engine.toml DESTINATION ${SECKILL_CONF_DIR} COMPONENT engine)
install(FILES installer/seckill-engine.service DESTINATION ${SECKILL_UNIT_DIR} COMPONENT engine)
install(FILES README.md docs/configuration.md assets/config/example.toml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/seckill-engine COMPONENT engine)
seckill_package_docs(engine seckill-engine)

# --- seckill-console: the operator console, its desktop entry, icons, AppStream data ---
if(TARGET seckill-console)
  install(TARGETS seckill-console RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT console)
  install(FILES assets/seckill-console.desktop
          DESTINATION ${CMAKE_INSTALL_DATADIR}/applications COMPONENT console)
  install(FILES assets/seckill-console.metainfo.xml
          DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo COMPONENT console)
  install(FILES assets/icons/seckill-console.svg
          DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps COMPONENT console)
  foreach(size 16 32 48 64 128 256)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/assets/icons/hicolor/${size}x${size}/seckill-console.png)
      install(FILES assets/icons/hicolor/${size}x${size}/seckill-console.png
              DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps COMPONENT console)
    endif()
  endforeach()
  seckill_package_docs(console seckill-console)
endif()

# --- seckill-tools: the load generator and the scripts that drive it ---
if(TARGET seckill-load)
  seckill_man_page(seckill-load tools "flash-sale load generator for seckill engines")
  install(TARGETS seckill-load RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
  install(PROGRAMS bench/plot/plot-load DESTINATION ${CMAKE_INSTALL_DATADIR}/seckill-tools
          COMPONENT tools)
  install(FILES bench/wrk/fresh_users.lua docs/load.md
          DESTINATION ${CMAKE_INSTALL_DATADIR}/seckill-tools COMPONENT tools)
  seckill_package_docs(tools seckill-tools)
endif()

# --- libseckill-dev: the rate limiter as a library (installer/library.cmake) ---
include(${CMAKE_CURRENT_LIST_DIR}/library.cmake)

# --- CPack ---
set(CPACK_PACKAGE_NAME seckill)
set(CPACK_PACKAGE_VENDOR "seckill developers")
set(CPACK_PACKAGE_CONTACT "seckill developers <seckill@example.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_ARCHIVE_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL engine)
if(TARGET seckill-console)
  list(APPEND CPACK_COMPONENTS_ALL console)
endif()
if(TARGET seckill-load)
  list(APPEND CPACK_COMPONENTS_ALL tools)
endif()
list(APPEND CPACK_COMPONENTS_ALL dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_ENGINE_PACKAGE_NAME seckill-engine)
# Continuation lines without a leading space: CPack adds it.
set(CPACK_DEBIAN_ENGINE_DESCRIPTION "flash-sale engine: no oversell, one order per shopper
seckill-engine serves shoppers over HTTP during a flash sale: rate
limiting by a trie of URL rules, dedup and one-time submission tokens,
stock deduction that never oversells, orders with delayed cancel, and
circuit breakers. It runs as a hardened systemd service; seckillctl
drives its gRPC admin API (live stats, rules, breaker modes, sales).")
set(CPACK_DEBIAN_ENGINE_PACKAGE_CONTROL_EXTRA
    ${SECKILL_PKG_DIR}/engine/postinst ${SECKILL_PKG_DIR}/engine/prerm
    ${SECKILL_PKG_DIR}/engine/postrm ${SECKILL_PKG_DIR}/engine/conffiles)
set(CPACK_DEBIAN_ENGINE_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_CONSOLE_PACKAGE_NAME seckill-console)
set(CPACK_DEBIAN_CONSOLE_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_CONSOLE_DESCRIPTION "operator console of the seckill flash-sale engine
seckill-console connects to seckill engines over gRPC: live TPS graphs,
the URL rule trie edited hot with versions and rollback, on-limit and
circuit-breaker modes, sales.")
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME seckill-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)
set(CPACK_DEBIAN_TOOLS_DESCRIPTION "load generator for seckill flash-sale engines
seckill-load drives a flash-sale storm (fresh and repeating shoppers,
spikes, tokens) against a seckill engine over HTTP and checks the books
at the end; plot-load draws its TPS picture.")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libseckill-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# Static libraries: no shlibs to find; what a consumer's find_package(seckill) needs instead.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libabsl-dev, libtomlplusplus-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION "seckill's rate limiter as a C++ library
libseckill-dev embeds seckill's rate limiter in a service: URL rule
trie, token bucket, leaky bucket, sliding window and sliding log,
on-limit modes and overrides, rule sets from TOML or structs swapped
atomically, per-rule counters. Static libraries, headers (abseil only)
and a CMake package: find_package(seckill CONFIG), seckill::ratelimit.")
set(CPACK_GENERATOR "DEB;TGZ")
include(CPack)
