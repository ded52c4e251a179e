// JWT verification (RFC 7519 / 7515 compact form) for [identity] kind = "jwt". The signatures
// are OpenSSL's (EVP_MAC HMAC, EVP_DigestVerify), the JSON reader RapidJSON's; this file only
// frames them: split, decode, pick the one configured algorithm, check the claims.
// Why not cpp-jwt: docs/identity.md.
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/sale.h"
#include "engine/core/strings.h"
#include "engine/identity/identity.h"
#include "engine/identity/openssl_util.h"
#include "rapidjson/memorystream.h"
#include "rapidjson/reader.h"

namespace seckill::identity {
namespace {

enum class Alg { kHS256, kRS256, kES256 };

std::string_view algName(Alg a) {
  switch (a) {
    case Alg::kHS256: return "HS256";
    case Alg::kRS256: return "RS256";
    case Alg::kES256: return "ES256";
  }
  return "";
}

// The top-level members of a JSON object that a check needs, read with RapidJSON's SAX reader
// (no document is built: a JWT's claims are parsed on every request, and nlohmann's SAX
// interface cost about 7,000 instructions for a 60-byte claim set). A member named twice is
// refused (RFC 7515 5.2 allows refusing; taking one of them silently is how confusions start).
class Members final : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Members> {
 public:
  struct Value {
    enum Kind : uint8_t { kAbsent, kString, kInteger, kUnsigned, kFloat, kArray, kOther };
    Kind kind = kAbsent;
    std::string text;
    int64_t integer = 0;
    uint64_t unsigned_integer = 0;
    double number = 0;
    std::vector<std::string> strings;  // kArray: its string elements
    bool only_strings = true;          // kArray: no element of another type
  };
  static constexpr size_t kMax = 6;

  explicit Members(std::initializer_list<std::string_view> names) : names_(names) {}

  // True iff `text` is one JSON object (valid UTF-8, nothing after it) whose wanted members
  // are named at most once.
  bool parse(std::string_view text) {
    // RapidJSON's streams read a NUL byte as the end of the input.
    if (text.find('\0') != std::string_view::npos) return false;
    rapidjson::MemoryStream in(text.data(), text.size());
    // One reader per thread: its stack is allocated at the first parse and kept.
    thread_local rapidjson::Reader reader;
    constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag |
                                rapidjson::kParseIterativeFlag;  // no recursion on nesting
    return !reader.Parse<kFlags>(in, *this).IsError() && done_;
  }
  const Value& operator[](size_t i) const { return values_[i]; }

  // RapidJSON's handler interface.
  bool Null() { return scalar(Value::kOther); }
  bool Bool(bool) { return scalar(Value::kOther); }
  bool Int(int v) { return v < 0 ? Int64(v) : Uint64(static_cast<uint64_t>(v)); }
  bool Uint(unsigned v) { return Uint64(v); }
  bool Int64(int64_t v) {
    if (v >= 0) return Uint64(static_cast<uint64_t>(v));
    if (Value* x = target()) x->integer = v;
    return scalar(Value::kInteger);
  }
  bool Uint64(uint64_t v) {
    if (Value* x = target()) x->unsigned_integer = v;
    return scalar(Value::kUnsigned);
  }
  bool Double(double v) {
    if (Value* x = target()) x->number = v;
    return scalar(Value::kFloat);
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (depth_ == 2 && in_array_ && current_ >= 0) {
      values_[current_].strings.emplace_back(s, n);
      return true;
    }
    if (Value* x = target()) x->text.assign(s, n);
    return scalar(Value::kString);
  }
  bool StartObject() {
    if (done_) return false;
    if (depth_ == 0) {
      ++depth_;
      return true;
    }
    markArrayElement();
    if (depth_ == 1 && current_ >= 0) values_[current_].kind = Value::kOther;
    ++depth_;
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (depth_ != 1) return true;
    const std::string_view k(s, n);
    current_ = -1;
    for (size_t i = 0; i < names_.size(); ++i) {
      if (k == names_[i]) {
        if (seen_[i]) return false;  // named twice
        seen_[i] = true;
        current_ = static_cast<int>(i);
      }
    }
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    if (--depth_ == 0) done_ = true;
    return true;
  }
  bool StartArray() {
    if (depth_ == 0) return false;  // the top level must be an object
    markArrayElement();
    if (depth_ == 1 && current_ >= 0) {
      values_[current_].kind = Value::kArray;
      in_array_ = true;
    }
    ++depth_;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    if (--depth_ == 1) in_array_ = false;
    return true;
  }

 private:
  // The value being read at depth 1, if it is a wanted member's.
  Value* target() { return depth_ == 1 && current_ >= 0 ? &values_[current_] : nullptr; }
  // A scalar: a wanted member's value, an element of its array, or anything else (skipped).
  bool scalar(Value::Kind kind) {
    if (depth_ == 0) return false;  // the top level must be an object
    if (depth_ == 1 && current_ >= 0) values_[current_].kind = kind;
    markArrayElement();
    return true;
  }
  void markArrayElement() {
    if (depth_ == 2 && in_array_ && current_ >= 0) values_[current_].only_strings = false;
  }

  std::vector<std::string_view> names_;
  std::array<Value, kMax> values_;
  std::array<bool, kMax> seen_{};
  int depth_ = 0;
  int current_ = -1;
  bool in_array_ = false;
  bool done_ = false;
};

// A JSON number as a time; nullopt if not a finite number in range.
std::optional<absl::Time> numericDate(const Members::Value& v) {
  constexpr int64_t kLimit = int64_t{1} << 40;
  switch (v.kind) {
    case Members::Value::kInteger:
      if (v.integer < -kLimit || v.integer > kLimit) return std::nullopt;
      return absl::FromUnixSeconds(v.integer);
    case Members::Value::kUnsigned:
      if (v.unsigned_integer > static_cast<uint64_t>(kLimit)) return std::nullopt;
      return absl::FromUnixSeconds(static_cast<int64_t>(v.unsigned_integer));
    case Members::Value::kFloat:
      if (!std::isfinite(v.number) || std::fabs(v.number) > 1e12) return std::nullopt;
      return absl::UnixEpoch() + absl::Seconds(v.number);
    default:
      return std::nullopt;
  }
}

// Tokens that verified, by the SHA-256 of their text: a shopper's next request with the same
// token costs a digest and a lookup instead of the signature check (RS256 ~20 us, ES256 ~70 us).
// A fixed table, direct-mapped (a new token takes its slot from whichever it lands on): no
// allocation per token, bounded memory (about 130 bytes a slot). Only accepted tokens are kept
// (a forged one is checked in full every time) and a hit re-checks the expiry.
class VerifiedTokens {
 public:
  using Digest = std::array<unsigned char, 32>;

  explicit VerifiedTokens(size_t capacity) : slots_(capacity) {}
  bool enabled() const { return !slots_.empty(); }

  // True iff the token is known good and not expired at `now`; sets `user`.
  bool find(const Digest& d, absl::Time now, std::string& user) {
    const size_t i = index(d);
    absl::MutexLock lock(&locks_[i % kLocks]);
    const Slot& s = slots_[i];
    if (s.user_size == 0 || s.digest != d || now >= s.expires) return false;
    user.assign(s.user, s.user_size);
    return true;
  }
  void insert(const Digest& d, std::string_view user, absl::Time expires) {
    if (user.empty() || user.size() > sizeof(Slot::user)) return;
    const size_t i = index(d);
    absl::MutexLock lock(&locks_[i % kLocks]);
    Slot& s = slots_[i];
    s.digest = d;
    s.expires = expires;
    std::memcpy(s.user, user.data(), user.size());
    s.user_size = static_cast<uint8_t>(user.size());
  }

 private:
  static constexpr size_t kLocks = 64;
  struct Slot {
    Digest digest{};
    absl::Time expires;  // exp + leeway
    char user[64];       // a valid user id is at most 64 bytes
    uint8_t user_size = 0;  // 0: empty
  };
  size_t index(const Digest& d) const {
    uint64_t h;
    std::memcpy(&h, d.data(), sizeof(h));
    return h % slots_.size();
  }

  std::vector<Slot> slots_;
  std::array<absl::Mutex, kLocks> locks_;
};

// The last protected header (base64url text) a verifier accepted on this thread.
struct GoodHeader {
  uint64_t verifier = 0;  // JwtVerifier::id_; 0: none
  std::string text;
};
constexpr size_t kMaxGoodHeader = 256;
std::atomic<uint64_t> next_verifier_id{1};

class JwtVerifier final : public UserVerifier {
 public:
  JwtVerifier(Alg alg, HmacKey hmac, PublicKey key, const IdentitySettings& s)
      : alg_(alg),
        hmac_(std::move(hmac)),
        key_(std::move(key)),
        issuer_(s.issuer),
        audience_(s.audience),
        user_claim_(s.user_claim),
        leeway_(s.leeway),
        // HS256 checks a token in about the time a lookup takes: only the public-key
        // algorithms remember tokens.
        verified_(alg == Alg::kHS256 ? 0 : s.remember_tokens),
        id_(next_verifier_id.fetch_add(1)) {}

  Refusal verify(std::string_view token, absl::Time now, std::string& user) const override {
    if (token.size() > kMaxKeyBytes) return Refusal::kMalformed;
    absl::Time expires;
    VerifiedTokens::Digest d;
    if (!verified_.enabled() || !sha256(token, d.data())) {
      return verifyInFull(token, now, user, expires);
    }
    if (verified_.find(d, now, user)) return Refusal::kOk;
    const Refusal r = verifyInFull(token, now, user, expires);
    if (r == Refusal::kOk) verified_.insert(d, user, expires);
    return r;
  }

 private:
  // Checks everything; on kOk sets `expires` (exp + leeway).
  Refusal verifyInFull(std::string_view token, absl::Time now, std::string& user,
                       absl::Time& expires) const {
    const size_t dot1 = token.find('.');
    if (dot1 == std::string_view::npos || dot1 == 0) return Refusal::kMalformed;
    const size_t dot2 = token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || dot2 == dot1 + 1 || dot2 + 1 >= token.size() ||
        token.find('.', dot2 + 1) != std::string_view::npos) {
      return Refusal::kMalformed;  // JWE (five parts) and unsigned tokens included
    }
    const std::string_view signed_part = token.substr(0, dot2);
    thread_local std::string buf;  // decoded parts; reused, so a steady load allocates nothing
    // The protected header: its alg must be the one configured (never "none", never a
    // public key used as an HMAC secret). A login service sends the same header bytes in every
    // token, so each thread remembers the last header this verifier accepted, byte for byte.
    const std::string_view header_text = token.substr(0, dot1);
    thread_local GoodHeader good;
    if (good.verifier != id_ || good.text != header_text) {
      if (!absl::WebSafeBase64Unescape(av(header_text), &buf)) return Refusal::kMalformed;
      Members header({"alg", "crit"});
      if (!header.parse(buf)) return Refusal::kMalformed;
      if (header[0].kind != Members::Value::kString) return Refusal::kMalformed;
      if (header[0].text != algName(alg_)) return Refusal::kAlgorithm;
      // RFC 7515 4.1.11: an extension we do not understand must be refused.
      if (header[1].kind != Members::Value::kAbsent) return Refusal::kMalformed;
      if (header_text.size() <= kMaxGoodHeader) {
        good.verifier = id_;
        good.text.assign(header_text);
      }
    }
    if (!absl::WebSafeBase64Unescape(av(token.substr(dot2 + 1)), &buf)) {
      return Refusal::kMalformed;
    }
    if (!signatureValid(signed_part, buf)) return Refusal::kSignature;
    // Only now, authenticated, the claims.
    if (!absl::WebSafeBase64Unescape(av(token.substr(dot1 + 1, dot2 - dot1 - 1)), &buf)) {
      return Refusal::kMalformed;
    }
    enum { kExp, kNbf, kIss, kAud, kUser };
    Members claims({"exp", "nbf", "iss", "aud", user_claim_});
    if (!claims.parse(buf)) return Refusal::kMalformed;
    // exp is required: a token without one would be good for ever.
    if (claims[kExp].kind == Members::Value::kAbsent) return Refusal::kExpired;
    auto exp_time = numericDate(claims[kExp]);
    if (!exp_time) return Refusal::kMalformed;
    expires = *exp_time + leeway_;
    if (now >= expires) return Refusal::kExpired;
    if (claims[kNbf].kind != Members::Value::kAbsent) {
      auto nbf_time = numericDate(claims[kNbf]);
      if (!nbf_time) return Refusal::kMalformed;
      if (now + leeway_ < *nbf_time) return Refusal::kNotYetValid;
    }
    if (!issuer_.empty() &&
        (claims[kIss].kind != Members::Value::kString || claims[kIss].text != issuer_)) {
      return Refusal::kIssuer;
    }
    if (!audience_.empty()) {
      const Members::Value& aud = claims[kAud];
      bool named = aud.kind == Members::Value::kString && aud.text == audience_;
      if (aud.kind == Members::Value::kArray) {
        for (const std::string& a : aud.strings) named = named || a == audience_;
      }
      if (!named) return Refusal::kAudience;
    }
    const Members::Value& claim = claims[kUser];
    switch (claim.kind) {
      case Members::Value::kString:
        user.assign(claim.text);
        break;
      case Members::Value::kInteger:
        user = absl::StrCat(claim.integer);
        break;
      case Members::Value::kUnsigned:
        user = absl::StrCat(claim.unsigned_integer);
        break;
      default:
        return Refusal::kUser;
    }
    return isValidId(user) ? Refusal::kOk : Refusal::kUser;
  }

  bool signatureValid(std::string_view data, std::string_view sig) const {
    switch (alg_) {
      case Alg::kHS256: return hmac_.verify(data, sig);
      case Alg::kRS256: return key_.verify(data, sig);
      case Alg::kES256: {
        // JWS carries R || S (32 bytes each); OpenSSL verifies the DER form.
        std::string der;
        return rawEcdsaToDer(sig, 32, der) && key_.verify(data, der);
      }
    }
    return false;
  }

  const Alg alg_;
  const HmacKey hmac_;
  const PublicKey key_;
  const std::string issuer_;
  const std::string audience_;
  const std::string user_claim_;
  const absl::Duration leeway_;
  mutable VerifiedTokens verified_;
  const uint64_t id_;  // unique per verifier: what a thread's GoodHeader belongs to
};

}  // namespace

absl::StatusOr<std::unique_ptr<UserVerifier>> makeJwtVerifier(const IdentitySettings& s) {
  if (s.user_claim.empty()) {
    return absl::InvalidArgumentError("identity.user_claim: must name a claim (\"sub\")");
  }
  for (std::string_view reserved : {"exp", "nbf", "iss", "aud"}) {
    if (s.user_claim == reserved) {
      return absl::InvalidArgumentError(absl::StrCat(
          "identity.user_claim: \"", av(reserved), "\" is a registered claim, not a user id"));
    }
  }
  if (s.leeway < absl::ZeroDuration() || s.leeway > absl::Minutes(10)) {
    return absl::InvalidArgumentError("identity.leeway: must be between 0s and 10m");
  }
  const bool has_secret = !s.secret.empty();
  const bool has_key = !s.public_key_pem.empty();
  if (has_secret == has_key) {
    return absl::InvalidArgumentError(
        "identity: kind = \"jwt\" needs exactly one of secret_file (HS256) and public_key_file "
        "(RS256, ES256)");
  }
  if (has_secret) {
    if (s.secret.size() < kMinSecretBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "identity.secret_file: the HS256 secret must be at least ", kMinSecretBytes,
          " bytes (RFC 7518 3.2); it has ", s.secret.size()));
    }
    auto key = HmacKey::make(s.secret);
    if (!key.ok()) return key.status();
    return std::make_unique<JwtVerifier>(Alg::kHS256, std::move(*key), PublicKey(), s);
  }
  auto key = PublicKey::fromPem(s.public_key_pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("identity.public_key_file: ", key.status().message()));
  }
  Alg alg;
  switch (key->type()) {
    case PublicKey::Type::kRsa:
      if (key->bits() < 2048) {
        return absl::InvalidArgumentError(absl::StrCat(
            "identity.public_key_file: an RSA key must have at least 2048 bits; this has ",
            key->bits()));
      }
      alg = Alg::kRS256;
      break;
    case PublicKey::Type::kP256:
      alg = Alg::kES256;
      break;
    default:
      return absl::InvalidArgumentError(
          "identity.public_key_file: the key must be RSA (RS256) or EC P-256 (ES256)");
  }
  return std::make_unique<JwtVerifier>(alg, HmacKey(), std::move(*key), s);
}

}  // namespace seckill::identity
