"""Usage rows outlive their render, and may belong to no render.

A purged render (DELETE /v1/renders/{id}?purge=true) must not take its metered seconds
and provider costs with it, so the foreign key that deleted them in cascade goes; the
row keeps the render's id, so /v1/usage still counts the job. Studio work that is no
render (voice auditions, written scripts) is metered with no render id.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("usage_items") as batch:  # batch: SQLite cannot ALTER much in place
        batch.drop_constraint("fk_usage_items_render_id_renders", type_="foreignkey")
        batch.alter_column("render_id", existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    # The old schema cannot hold usage of purged renders or of no render: those rows go.
    op.execute("DELETE FROM usage_items WHERE render_id IS NULL OR render_id NOT IN (SELECT id FROM renders)")
    with op.batch_alter_table("usage_items") as batch:
        batch.alter_column("render_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_foreign_key(
            "fk_usage_items_render_id_renders", "renders", ["render_id"], ["id"], ondelete="CASCADE"
        )
