"""uvicorn's HTTP protocol, answering unparseable requests in tokend's JSON error shape.

Requests that are not valid HTTP (an unknown method, a NUL in a header, a
non-numeric Content-Length) are refused by the protocol layer before the app
sees them; stock uvicorn answers those in plain text.
"""

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_BODY = json.dumps(
    {"error": {"code": "bad_request", "message": "The request is not valid HTTP."}}
).encode()


class JsonErrorHttpToolsProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        del msg  # uvicorn's parser message; the JSON body says the same in our words
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        head += [
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        ]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(_BODY)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + _BODY)
        self.transport.close()
