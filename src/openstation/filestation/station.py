"""One device's File Station: its services, made once per boot and shared by the Web API,
the pages and the public sharing pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from openstation.filestation.favorites import FavoritesService
from openstation.filestation.service import FileStation
from openstation.filestation.sharing import SharingService
from openstation.filestation.tasks import TaskBoard
from openstation.storage.service import StorageService


@dataclass
class Station:
    files: FileStation
    tasks: TaskBoard
    sharing: SharingService
    favorites: FavoritesService

    @classmethod
    def build(cls, storage: StorageService, clock: Callable[[], float]) -> Station:
        files = FileStation(storage)
        return cls(files, TaskBoard(clock), SharingService(storage.store, files, clock),
                   FavoritesService(storage.store, files))
