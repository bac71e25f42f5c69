"""Storage: repositories that take and return dataclasses, and know nothing of Telegram, on
a SQLite file or a PostgreSQL database alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from storage.appointments import Appointments
from storage.audit import AuditLog
from storage.blocks import Blocks
from storage.busy import BusyTimes
from storage.calls import Calls
from storage.db import Database, Leadership, open_database
from storage.escalations import Escalations
from storage.mailmerges import MailMerges
from storage.missions import Missions
from storage.outbox import Outbox
from storage.patients import Patients
from storage.people import People, sync_businesses
from storage.privacy import Privacy
from storage.reminders import DigestsSent, Reminders
from storage.series import SeriesStore
from storage.sessions import Sessions
from storage.threads import Threads
from storage.updates import HandledUpdates
from storage.waitlist import Waitlist


@dataclass
class Store:
    db: Database
    outbox: Outbox
    appointments: Appointments
    people: People
    missions: Missions
    mail_merges: MailMerges
    reminders: Reminders
    digests_sent: DigestsSent
    blocks: Blocks
    calls: Calls
    escalations: Escalations
    audit: AuditLog
    sessions: Sessions
    threads: Threads
    waitlist: Waitlist
    patients: Patients
    series: SeriesStore
    privacy: Privacy
    business_ids: dict[str, int]
    busy: BusyTimes
    # The minute's sweep: of the workers sharing the database, the one holding this does it.
    sweeper: Leadership
    handled_updates: HandledUpdates

    @classmethod
    async def open(cls, path: str | Path, businesses: Iterable[tuple[str, str]] = ()) -> Store:
        """``path``: a SQLite file, or a ``postgresql://`` URL."""
        db = await open_database(path)
        outbox = Outbox(db)
        appointments = Appointments(db, outbox)
        audit = AuditLog(db)
        return cls(
            db=db,
            outbox=outbox,
            appointments=appointments,
            people=People(db),
            missions=Missions(db, outbox),
            mail_merges=MailMerges(db, outbox),
            reminders=Reminders(db, outbox),
            digests_sent=DigestsSent(db, outbox),
            blocks=Blocks(db),
            calls=Calls(db, outbox),
            escalations=Escalations(db, outbox),
            audit=audit,
            sessions=Sessions(db),
            threads=Threads(db, outbox),
            waitlist=Waitlist(db, outbox),
            patients=Patients(db),
            series=SeriesStore(db, outbox, appointments),
            privacy=Privacy(db, outbox, audit),
            business_ids=await sync_businesses(db, businesses),
            busy=BusyTimes(db),
            sweeper=db.leader("sweep"),
            handled_updates=HandledUpdates(db),
        )

    def business_slug(self, business_id: int) -> str:
        return next(slug for slug, id_ in self.business_ids.items() if id_ == business_id)

    async def close(self) -> None:
        await self.db.close()
