# The library package (component "dev" -> libseckill-dev, plus its .tar.gz): the rate limiter
# inside a service, as static libraries with a CMake package config. Included from
# installer/packaging.cmake.
#
#   cmake --install build --component dev --prefix /tmp/seckill
#   find_package(seckill CONFIG REQUIRED)   # CMAKE_PREFIX_PATH=/tmp/seckill
#   target_link_libraries(app PRIVATE seckill::ratelimit)
#
# Layout: headers keep their repository paths under <prefix>/include/seckill
# ("engine/embed/embedded_limiter.h"), which is the targets' include directory, so every header
# includes the others exactly as it does in-tree; libraries in <libdir>; the package config in
# <libdir>/cmake/seckill. The installed headers need the standard library and abseil only (no
# Asio, Beast, hiredis, MySQL, gRPC, toml++): the whole of engine/core (which holds those
# rules, docs/architecture.md), the rule file's and the façade's headers.
include(CMakePackageConfigHelpers)

set(SECKILL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/seckill)
set(SECKILL_INCLUDE_DIR ${CMAKE_INSTALL_INCLUDEDIR}/seckill)

# SECKILL_LIBRARY_TARGETS: engine/embed/CMakeLists.txt (export names, PIC, usage requirements).
install(TARGETS ${SECKILL_LIBRARY_TARGETS} EXPORT seckillTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        INCLUDES DESTINATION ${SECKILL_INCLUDE_DIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/engine/core/ DESTINATION ${SECKILL_INCLUDE_DIR}/engine/core
        COMPONENT dev FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_SOURCE_DIR}/engine/config/rule_file.h
              ${PROJECT_SOURCE_DIR}/engine/config/values.h
        DESTINATION ${SECKILL_INCLUDE_DIR}/engine/config COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/engine/embed/embedded_limiter.h
        DESTINATION ${SECKILL_INCLUDE_DIR}/engine/embed COMPONENT dev)
install(EXPORT seckillTargets NAMESPACE seckill:: DESTINATION ${SECKILL_CMAKE_DIR} COMPONENT dev)

configure_package_config_file(${PROJECT_SOURCE_DIR}/installer/seckillConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/packaging/seckillConfig.cmake
                              INSTALL_DESTINATION ${SECKILL_CMAKE_DIR})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/packaging/seckillConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/packaging/seckillConfig.cmake
              ${CMAKE_BINARY_DIR}/packaging/seckillConfigVersion.cmake
        DESTINATION ${SECKILL_CMAKE_DIR} COMPONENT dev)

# The documentation and the example service (which builds against the installed package).
install(FILES ${PROJECT_SOURCE_DIR}/docs/library.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/libseckill-dev COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/libseckill-dev/examples COMPONENT dev)
seckill_package_docs(dev libseckill-dev)
