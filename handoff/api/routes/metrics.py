from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from handoff.api.deps import ContainerDep

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
def metrics(container: ContainerDep) -> Response:
    return Response(container.metrics.render(container.sessions), media_type=CONTENT_TYPE_LATEST)
