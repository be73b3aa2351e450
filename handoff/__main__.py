"""`python -m handoff`: migrate the handoff store, then serve on 127.0.0.1:8000."""
import argparse

import uvicorn

from handoff.core.config import get_settings
from handoff.migrate import upgrade

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8000)
parser.add_argument("--workers", type=int, default=1)
args = parser.parse_args()
upgrade(get_settings().database_url)
# wsproto: rasa-sdk pins websockets 10, older than uvicorn's default WebSocket protocol needs.
uvicorn.run("handoff.main:app", host=args.host, port=args.port, workers=args.workers,
            ws="wsproto", log_level="info")
