"""moto's server (what `moto_server -H 127.0.0.1 -p 0` runs), handling one request at a time.

moto's own server handles each request in a thread of its own, and its DynamoDB checks a
ConditionExpression and then writes, without a lock: two concurrent conditional PutItems on one item
can both succeed. DynamoDB documents conditional writes as atomic per item (the basis of optimistic
locking), so requests here are served one after the other, which is one of the orders AWS could
have served them in. Prints the "Running on http://127.0.0.1:<port>" line test/support/moto.ts waits for.
"""
import sys
import threading

from werkzeug.serving import run_simple

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        # the whole response is produced under the lock
        return list(app(environ, start_response))


if __name__ == "__main__":
    run_simple("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0, serialized, threaded=True, request_handler=MotoRequestHandler)
