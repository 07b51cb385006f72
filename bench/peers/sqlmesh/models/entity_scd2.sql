-- The entity's full state each run; deleted keys are closed (invalidate_hard_deletes), with no deletion record.
MODEL (
  name sqlmesh.entity_scd2,
  kind SCD_TYPE_2_BY_COLUMN (
    unique_key id,
    columns [name, email, city, tier, balance],
    invalidate_hard_deletes true
  ),
  start '2026-01-01',
  cron '@daily'
);
SELECT id, name, email, city, tier, balance FROM src.entity
