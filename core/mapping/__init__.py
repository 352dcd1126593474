"""Built-in mappers: ``bulk`` (one invoice per local day and currency) and ``individual``."""

from __future__ import annotations

from core.hookspecs import RegisterMapper, hookimpl
from core.plugins import Manifest

MANIFEST = Manifest(
    name="mapping",
    version="0.1.0",
    summary="Bulk and Individual mappers: charges, fees and refunds to accounting documents.",
    provides=("mapper:bulk", "mapper:individual"),
)


@hookimpl
def register_mappers(register: RegisterMapper) -> None:
    from core.mapping.bulk import BulkMapper
    from core.mapping.individual import IndividualMapper

    register(BulkMapper)
    register(IndividualMapper)
