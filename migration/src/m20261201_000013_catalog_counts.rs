//! The catalog's size, kept by triggers, so the product list does not count every product
//! on every request; and a generation that moves with every change to the products, so a
//! process may keep a search's count until the catalog changes (`docs/benchmarks.md`).
//!
//! Every statement that changes `products` appends one row: how many products it added or
//! removed (0 for an update). Appending takes no lock another writer waits for, so imports
//! running side by side never queue behind a shared counter or deadlock on it. The size is
//! the sum, the generation the newest id; readers fold the rows into one now and then.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- No import may commit between the first count and the triggers.
LOCK TABLE products IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE catalog_size_changes (
    id    BIGSERIAL PRIMARY KEY,
    delta BIGINT NOT NULL
);
INSERT INTO catalog_size_changes (delta) SELECT count(*) FROM products;

CREATE FUNCTION catalog_size_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO catalog_size_changes (delta) SELECT count(*) FROM inserted;
    RETURN NULL;
END $$;

CREATE FUNCTION catalog_size_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO catalog_size_changes (delta) SELECT -count(*) FROM deleted;
    RETURN NULL;
END $$;

CREATE FUNCTION catalog_size_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO catalog_size_changes (delta) VALUES (0);
    RETURN NULL;
END $$;

-- After TRUNCATE, the rows before it no longer count. The lock waits for a reader's fold
-- to commit, so the DELETE sees the row the fold wrote.
CREATE FUNCTION catalog_size_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE catalog_size_changes IN EXCLUSIVE MODE;
    DELETE FROM catalog_size_changes;
    INSERT INTO catalog_size_changes (delta) VALUES (0);
    RETURN NULL;
END $$;

-- An upsert's INSERT transition table holds only the rows it inserted; the rows it updated
-- fire the UPDATE trigger.
CREATE TRIGGER products_size_insert AFTER INSERT ON products
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION catalog_size_inserted();
CREATE TRIGGER products_size_delete AFTER DELETE ON products
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION catalog_size_deleted();
CREATE TRIGGER products_size_update AFTER UPDATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_size_updated();
CREATE TRIGGER products_size_truncate AFTER TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_size_emptied();
"#;

const DOWN: &str = r#"
DROP TRIGGER products_size_insert ON products;
DROP TRIGGER products_size_delete ON products;
DROP TRIGGER products_size_update ON products;
DROP TRIGGER products_size_truncate ON products;
DROP FUNCTION catalog_size_inserted(), catalog_size_deleted(), catalog_size_updated(),
    catalog_size_emptied();
DROP TABLE catalog_size_changes;
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
