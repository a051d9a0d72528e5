"""Paged listings: `{items, total, page, size}` with page numbers from 1."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

MAX_PAGE_SIZE = 200
# Keeps OFFSET far inside PostgreSQL's bigint whatever the page size.
MAX_PAGE = 1_000_000
T = TypeVar("T")


class PageParams(BaseModel):
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page")]
DEFAULT_PAGE_SIZE = 20


async def _page_params(page: PageNumber = 1, size: PageSize = DEFAULT_PAGE_SIZE) -> PageParams:
    return PageParams(page=page, size=size)


PageDep = Annotated[PageParams, Depends(_page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int
