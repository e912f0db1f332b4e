"""The Content-Security-Policy of pages that run libsodium in the organiser's browser.

It is the site's policy (hamseda.middleware, which only sets a policy the view has not
set) with two changes:

- `'wasm-unsafe-eval'` in script-src: libsodium.js compiles its bundled WebAssembly,
  which browsers allow only with this keyword. It allows WebAssembly compilation, not
  JavaScript eval, and only on these pages.
- `connect-src 'none'`: the page's scripts cannot send anything anywhere (no fetch, no
  XMLHttpRequest, no beacon), so a secret key or a decrypted record cannot leave the
  browser through a script even if one tried. Forms still post to this site only.
"""

from django.http import HttpResponse

from hamseda.middleware import CSP

SODIUM_CSP = "; ".join(
    [
        *(
            "script-src 'self' 'wasm-unsafe-eval'" if part == "script-src 'self'" else part
            for part in CSP.split("; ")
        ),
        "connect-src 'none'",
    ]
)


def allow_sodium(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = SODIUM_CSP
    return response
