"""Optional OIDC/JWT bearer tokens: verify signature, issuer, audience, expiry; map a role.

The keys come from a JWKS file (RS256/ES256/PS256/EdDSA, picked by `kid`) or
an HS256 shared secret, both read once at start-up: the service makes no
outbound calls. Mount the identity provider's JWKS as a file (a ConfigMap).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt

from incident_service.domain.principal import Principal, Role

_ASYMMETRIC = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "PS384", "PS512", "EdDSA"]


class OidcConfigError(Exception):
    """The JWKS file cannot be used; one-line message."""


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


def role_from_claims(claims: dict[str, Any], claim: str) -> Role:
    """The highest known role named by the (dotted) claim; ANONYMOUS when none is."""
    value: Any = claims
    for part in claim.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    roles = [
        Role[n.upper()]
        for n in names
        if isinstance(n, str) and n.upper() in Role.__members__ and n.upper() != "ANONYMOUS"
    ]
    return max(roles, default=Role.ANONYMOUS)


#: The claims a user's display name is taken from, first present wins.
NAME_CLAIMS = ("preferred_username", "name", "email", "sub")
SUBJECT_MAX = 200


def issuer_host(issuer: str) -> str:
    """The issuer's host (`https://idp.example.com/realms/x` -> `idp.example.com`), or the
    issuer itself when it is not a URL."""
    return urlsplit(issuer).netloc or issuer


def principal_from_claims(claims: dict[str, Any], issuer: str, role: Role) -> Principal | None:
    """The user a verified token names: its actor id from the issuer and `sub` (which the
    identity provider assigns and never reuses), its display name from a readable claim.

    None when there is no usable `sub`: a user name alone is chosen by the user, and two
    users with one name must not share an actor id."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > SUBJECT_MAX:
        return None
    name = next(
        (v.strip() for c in NAME_CLAIMS if isinstance(v := claims.get(c), str) and v.strip()),
        sub,
    )
    return Principal(name[:200], role, "user", subject=f"{issuer_host(issuer)}/{sub.strip()}")


@dataclass
class OidcVerifier:
    issuer: str
    audience: str
    role_claim: str
    leeway: float
    hs256_secret: str = ""
    jwks: jwt.PyJWKSet | None = None

    @classmethod
    def create(
        cls,
        issuer: str,
        audience: str,
        role_claim: str,
        leeway: float,
        jwks_file: Path | None,
        hs256_secret: str,
    ) -> OidcVerifier:
        jwks = None
        if jwks_file is not None:
            try:
                jwks = jwt.PyJWKSet.from_json(jwks_file.read_text())
            except OSError as exc:
                raise OidcConfigError(f"OIDC_JWKS_FILE: cannot read: {exc.strerror}") from None
            except (jwt.PyJWKSetError, json.JSONDecodeError, ValueError) as exc:
                raise OidcConfigError(f"OIDC_JWKS_FILE: not a usable JWKS: {exc}") from None
        return cls(issuer, audience, role_claim, leeway, hs256_secret, jwks)

    def verify(self, token: str) -> Principal | None:
        """The principal the token names, or None when it is not valid for us."""
        try:
            header = jwt.get_unverified_header(token)
            key, algorithms = self._key_for(header)
            if key is None:
                return None
            claims = jwt.decode(
                token,
                key=key,
                algorithms=algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            return None
        return principal_from_claims(claims, self.issuer, role_from_claims(claims, self.role_claim))

    def _key_for(self, header: dict[str, Any]) -> tuple[Any, list[str]]:
        alg = header.get("alg")
        if alg == "HS256" and self.hs256_secret:
            return self.hs256_secret, ["HS256"]
        if self.jwks is None or alg not in _ASYMMETRIC:
            return None, []
        kid = header.get("kid")
        candidates = [k for k in self.jwks.keys if kid is None or k.key_id == kid]
        if len(candidates) != 1:
            return None, []
        return candidates[0].key, [alg]
