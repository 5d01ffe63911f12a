"""Sign-ins under way at the upstream provider keep the browser's address, so one
address cannot fill the table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("upstream_sign_ins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ip", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_upstream_sign_ins_ip_expires_at", ["ip", "expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("upstream_sign_ins", schema=None) as batch_op:
        batch_op.drop_index("ix_upstream_sign_ins_ip_expires_at")
        batch_op.drop_column("ip")
