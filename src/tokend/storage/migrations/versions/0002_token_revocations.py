"""The revocation log that worker processes poll to keep their caches true.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "token_revocations",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_id", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_token_revocations"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("token_revocations")
