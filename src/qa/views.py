"""What the page (``/``) and the API (``/api/ask``) share, as datasette's views do: the
request is parsed by the same schema and answered by the same service, into one
``Answer`` that the API returns as JSON and the page renders as HTML."""

from __future__ import annotations

from typing import Any, Mapping

from .metrics import count_cache
from .records import Answer
from .schemas import parse_ask
from .service import current_service


def answer(data: Mapping[str, Any], *, query_string: bool = False) -> Answer:
    """Validate (schemas.parse_ask), answer (QAService.ask), count the cache metric."""
    request = parse_ask(data, query_string=query_string)
    result = current_service().ask(request)
    count_cache(result.cached)
    return result
