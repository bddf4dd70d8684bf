"""Sockets of the expert's own pages."""

from django.utils import formats, timezone

from community import selectors
from community.models import Expert
from points.consumers import LeaderboardFeed
from points.protocol import LEADERBOARD_FRAMES
from realtime import broadcast
from realtime.broadcast import database_call
from realtime.sockets import CLOSE_FORBIDDEN, FrameSocket


def _is_active_expert(user) -> bool:
    return selectors.active_expert_for_user(user=user) is not None


class ExpertFeed(LeaderboardFeed):
    """An expert's live frames: points, redemption statuses, shop stock, the leaderboard."""

    expert: Expert | None = None

    async def admit_expert(self) -> bool:
        """Accept the socket for an active expert; close it for anyone else."""
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            self.expert = await database_call(selectors.active_expert_for_user, user=user)
        if await self.refuse_unless(user, allowed=self.expert is not None):
            return False
        await self.keep_signed_in(user, holds_right=_is_active_expert)
        self.viewer_id = self.expert.pk
        for group in (broadcast.expert_group(self.expert.pk), broadcast.SHOP):
            await self.join(group)
        return True

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        """A suspended expert hears so, since when and whom to ask, before the 4403."""
        user = self.scope.get("user")
        if (
            code == CLOSE_FORBIDDEN
            and not self.ended
            and user is not None
            and user.is_authenticated
        ):
            suspension = await database_call(selectors.suspension_for_user, user_id=user.pk)
            if suspension:
                self.activate_language()
                since = suspension["since"]
                await self.send_frame(
                    {
                        "type": "suspended",
                        "since": since.isoformat(),
                        "since_text": formats.date_format(
                            timezone.localtime(since), "j F Y, H:i T"
                        ),
                        "contact": suspension["contact"],
                    }
                )
        await super().close(code=code, reason=reason)


class ExpertPageConsumer(ExpertFeed, FrameSocket):
    """`/ws/expert/`: the expert's other pages (no live chats, no presence)."""

    frames = {"ping": {}, **LEADERBOARD_FRAMES}

    async def connect(self) -> None:
        await self.accept()
        if await self.admit_expert():
            await self.watch_leaderboard()
