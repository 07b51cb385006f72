-- Iceberg JDBC catalog tables, schema version V1 (Iceberg's JdbcUtil: V1 adds iceberg_type, so the
-- catalog can hold views as well as tables). Shared by Trino and Spark: both are configured with the
-- catalog name `iceberg` on database tessera_lakehouse and find their tables here.
-- Idempotent: run by scripts/services/lakehouse/setup.sh on every start, possibly by Trino's and Spark's
-- start at once: the transaction lock serializes them (concurrent CREATE TABLE IF NOT EXISTS can fail).
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('tessera_lakehouse_catalog'));
CREATE TABLE IF NOT EXISTS iceberg_tables (
  catalog_name VARCHAR(255) NOT NULL,
  table_namespace VARCHAR(255) NOT NULL,
  table_name VARCHAR(255) NOT NULL,
  metadata_location VARCHAR(1000),
  previous_metadata_location VARCHAR(1000),
  iceberg_type VARCHAR(5),
  PRIMARY KEY (catalog_name, table_namespace, table_name)
);

CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
  catalog_name VARCHAR(255) NOT NULL,
  namespace VARCHAR(255) NOT NULL,
  property_key VARCHAR(255),
  property_value VARCHAR(1000),
  PRIMARY KEY (catalog_name, namespace, property_key)
);

-- A catalog created by an older run (schema V0) lacks iceberg_type: add it (V1 readers need it).
ALTER TABLE iceberg_tables ADD COLUMN IF NOT EXISTS iceberg_type VARCHAR(5);

COMMIT;
