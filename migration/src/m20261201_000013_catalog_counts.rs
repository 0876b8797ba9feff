//! The catalog's size, kept by triggers, so the product list does not count every product
//! on every request; and a generation that changes with every change to the products, so a
//! process may keep a search's count until the catalog changes (`docs/benchmarks.md`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE catalog_counts (
    only_row   BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
    products   BIGINT NOT NULL,
    generation BIGINT NOT NULL DEFAULT 0,
    -- Tells this database's generations from another's in a process that reaches several.
    catalog    UUID NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO catalog_counts (products) SELECT count(*) FROM products;

CREATE FUNCTION catalog_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_counts
       SET products = products + (SELECT count(*) FROM inserted), generation = generation + 1;
    RETURN NULL;
END $$;

CREATE FUNCTION catalog_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_counts
       SET products = products - (SELECT count(*) FROM deleted), generation = generation + 1;
    RETURN NULL;
END $$;

CREATE FUNCTION catalog_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_counts SET generation = generation + 1;
    RETURN NULL;
END $$;

CREATE FUNCTION catalog_counts_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_counts SET products = 0, generation = generation + 1;
    RETURN NULL;
END $$;

-- An upsert's INSERT transition table holds only the rows it inserted; the rows it updated
-- fire the UPDATE trigger.
CREATE TRIGGER products_counted_insert AFTER INSERT ON products
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION catalog_counts_inserted();
CREATE TRIGGER products_counted_delete AFTER DELETE ON products
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION catalog_counts_deleted();
CREATE TRIGGER products_counted_update AFTER UPDATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_counts_changed();
CREATE TRIGGER products_counted_truncate AFTER TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_counts_emptied();
"#;

const DOWN: &str = r#"
DROP TRIGGER products_counted_insert ON products;
DROP TRIGGER products_counted_delete ON products;
DROP TRIGGER products_counted_update ON products;
DROP TRIGGER products_counted_truncate ON products;
DROP FUNCTION catalog_counts_inserted(), catalog_counts_deleted(), catalog_counts_changed(),
    catalog_counts_emptied();
DROP TABLE catalog_counts;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(DOWN).await?;
        Ok(())
    }
}
