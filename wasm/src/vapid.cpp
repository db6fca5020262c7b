#include "pushpeer/vapid.hpp"
#include "pushpeer/for_size.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "json_reader.hpp"
#include "pushpeer/base64url.hpp"

PUSHPEER_FOR_SIZE_BEGIN  // not hot: a few calls per connection (pushpeer/for_size.hpp)

namespace pushpeer::vapid {

namespace {

// base64url of {"typ":"JWT","alg":"ES256"}: the fixed header every pushpeer JWT uses (docs/PROTOCOL.md §1.4).
constexpr std::string_view kHeaderB64 = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9";

bool has_control_or_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  if (!host.starts_with("127.")) return false;
  // 127.a.b.c with decimal octets
  int dots = 0;
  for (char c : host) {
    if (c == '.') ++dots;
    else if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return dots == 3;
}

// JSON string literal with the escapes RFC 8259 requires (and nothing else), so the output is canonical.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string canonical_claims(const Claims& claims) {
  std::string json = "{\"aud\":";
  append_json_string(json, claims.aud);
  json += ",\"exp\":" + std::to_string(claims.exp) + ",\"sub\":";
  append_json_string(json, claims.sub);
  json += '}';
  return json;
}

std::string signing_input(const Claims& claims) {
  return std::string(kHeaderB64) + "." + base64url::encode(as_bytes(canonical_claims(claims)));
}

Status check_claims(const Claims& claims, std::int64_t now) {
  if (Status s = check_subject(claims.sub); s != Status::ok) return s;
  if (claims.aud.empty()) return Status::bad_endpoint;
  if (claims.exp <= now || claims.exp > now + kMaxLifetimeSeconds) return Status::bad_expiration;
  return Status::ok;
}

}  // namespace

Status audience_for_endpoint(std::string_view endpoint, std::string& audience) {
  if (endpoint.size() > 4096 || has_control_or_space(endpoint)) return Status::bad_endpoint;
  const std::size_t colon = endpoint.find("://");
  if (colon == std::string_view::npos) return Status::bad_endpoint;
  const std::string scheme = lower(endpoint.substr(0, colon));
  if (scheme != "https" && scheme != "http") return Status::bad_endpoint;
  std::string_view rest = endpoint.substr(colon + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return Status::bad_endpoint;

  // Split host and port; IPv6 literals are bracketed.
  std::string_view host = authority, port;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::bad_endpoint;
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Status::bad_endpoint;
      port = after.substr(1);
    }
  } else if (const std::size_t c = authority.rfind(':'); c != std::string_view::npos) {
    host = authority.substr(0, c);
    port = authority.substr(c + 1);
  }
  if (host.empty() || host == "[]") return Status::bad_endpoint;
  // RFC 3986 reg-name (or a bracketed IPv6 literal): no ':' or other delimiters in a host name.
  const bool bracketed = host.front() == '[';
  const std::string_view name = bracketed ? host.substr(1, host.size() - 2) : host;
  for (char c : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '~' ||
                    (bracketed && c == ':');
    if (!ok) return Status::bad_endpoint;
  }
  unsigned port_number = 0;
  if (!port.empty()) {
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
    if (ec != std::errc() || end != port.data() + port.size() || port_number == 0 || port_number > 65535) {
      return Status::bad_endpoint;
    }
  }
  const std::string host_lower = lower(host);
  if (scheme == "http" && !is_loopback_host(host_lower)) return Status::bad_endpoint;
  // Origin serialisation (RFC 6454): lower-case scheme and host, default port omitted.
  audience = scheme + "://" + host_lower;
  const unsigned default_port = scheme == "https" ? 443 : 80;
  if (!port.empty() && port_number != default_port) audience += ":" + std::to_string(port_number);
  return Status::ok;
}

Status check_subject(std::string_view subject) {
  if (subject.size() > 1024 || has_control_or_space(subject)) return Status::bad_subject;
  const std::string l = lower(subject.substr(0, 8));
  if (l.starts_with("mailto:") && subject.size() > 7) return Status::ok;
  if (l.starts_with("https://") && subject.size() > 8) return Status::ok;
  return Status::bad_subject;
}

Status sign_claims(ByteView private_key, const Claims& claims, p256::Signature& signature) {
  // Low S: grants are verified low-S only (a grant has one valid form); push services accept either.
  return p256::sign_low_s(private_key, as_bytes(signing_input(claims)), signature);
}

std::string assemble_jwt(const Claims& claims, ByteView signature) {
  return signing_input(claims) + "." + base64url::encode(signature);
}

Status sign_jwt(ByteView private_key, const Claims& claims, std::int64_t now, std::string& jwt) {
  if (Status s = check_claims(claims, now); s != Status::ok) return s;
  const std::string input = signing_input(claims);
  p256::Signature signature;
  if (Status s = p256::sign_low_s(private_key, as_bytes(input), signature); s != Status::ok) return s;
  jwt = input + "." + base64url::encode(signature);
  return Status::ok;
}

Status verify_jwt(std::string_view jwt, ByteView public_key, Claims& claims) {
  if (jwt.size() > kMaxJwtLength) return Status::bad_jwt;
  const std::size_t d1 = jwt.find('.');
  const std::size_t d2 = d1 == std::string_view::npos ? d1 : jwt.find('.', d1 + 1);
  if (d2 == std::string_view::npos || jwt.find('.', d2 + 1) != std::string_view::npos) return Status::bad_jwt;
  Bytes header_bytes, claims_bytes, signature;
  if (base64url::decode(jwt.substr(0, d1), header_bytes) != Status::ok ||
      base64url::decode(jwt.substr(d1 + 1, d2 - d1 - 1), claims_bytes) != Status::ok ||
      base64url::decode(jwt.substr(d2 + 1), signature) != Status::ok) {
    return Status::bad_jwt;
  }
  // json::parse is strict where parsers disagree (a byte-order mark, a member twice): a JWT means one thing.
  const auto text = [](const Bytes& b) { return std::string_view(reinterpret_cast<const char*>(b.data()), b.size()); };
  json::Value header, body;
  if (!json::parse(text(header_bytes), header) || !header.is_object()) return Status::bad_jwt;
  const json::Value* alg = header.get("alg");
  const json::Value* typ = header.get("typ");
  if (alg == nullptr || !alg->is_string() || alg->string != "ES256") return Status::bad_jwt;
  if (typ != nullptr && (!typ->is_string() || typ->string != "JWT")) return Status::bad_jwt;
  if (!json::parse(text(claims_bytes), body) || !body.is_object()) return Status::bad_jwt;
  const json::Value* aud = body.get("aud");
  const json::Value* exp = body.get("exp");
  const json::Value* sub = body.get("sub");
  if (aud == nullptr || !aud->is_string() || exp == nullptr || !exp->is_integer) return Status::bad_jwt;
  if (sub != nullptr && !sub->is_string()) return Status::bad_jwt;
  // exp is NumericDate seconds; beyond 2^53 - 1 it is neither exact in JavaScript nor meaningful.
  constexpr std::int64_t kMaxExactInteger = (std::int64_t{1} << 53) - 1;
  if (exp->integer < 0 || exp->integer > kMaxExactInteger) return Status::bad_jwt;
  if (signature.size() != p256::kSignatureLength) return Status::bad_signature;
  if (Status s = p256::verify(public_key, as_bytes(jwt.substr(0, d2)), signature); s != Status::ok) return s;
  claims.aud = aud->string;
  claims.exp = exp->integer;
  claims.sub = sub != nullptr ? sub->string : std::string();
  return Status::ok;
}

Status authorization(std::string_view endpoint, std::string_view subject, ByteView private_key,
                     ByteView public_key, std::int64_t expiration, std::int64_t now, std::string& header) {
  Claims claims;
  if (Status s = audience_for_endpoint(endpoint, claims.aud); s != Status::ok) return s;
  claims.sub = std::string(subject);
  claims.exp = expiration;
  // A key pair that does not belong together would only surface as a 403 from the push service.
  p256::PublicKey derived;
  if (Status s = p256::public_key_from_private(private_key, derived); s != Status::ok) return s;
  if (!std::equal(derived.begin(), derived.end(), public_key.begin(), public_key.end())) return Status::bad_key;
  std::string jwt;
  if (Status s = sign_jwt(private_key, claims, now, jwt); s != Status::ok) return s;
  header = "vapid t=" + jwt + ", k=" + base64url::encode(public_key);
  return Status::ok;
}

Status parse_authorization(std::string_view header, std::string& jwt, Bytes& public_key) {
  if (header.size() < 6 || lower(header.substr(0, 6)) != "vapid ") return Status::bad_jwt;
  std::string_view rest = header.substr(6);
  bool have_t = false, have_k = false;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view param = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!param.empty() && param.front() == ' ') param.remove_prefix(1);
    while (!param.empty() && param.back() == ' ') param.remove_suffix(1);
    if (param.starts_with("t=")) {
      if (have_t) return Status::bad_jwt;  // a repeated parameter is ambiguous
      jwt = std::string(param.substr(2));
      have_t = true;
    } else if (param.starts_with("k=")) {
      if (have_k) return Status::bad_jwt;
      if (Status s = base64url::decode(param.substr(2), public_key); s != Status::ok) return s;
      have_k = true;
    } else {
      return Status::bad_jwt;
    }
  }
  return have_t && have_k ? Status::ok : Status::bad_jwt;
}

}  // namespace pushpeer::vapid

PUSHPEER_FOR_SIZE_END
