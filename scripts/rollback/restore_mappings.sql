-- Restores the database side of a rollback — SyncStore's mappings to the marketplace
-- listings — from the snapshots every sync stores before it writes (docs/rollback.md).
--
-- A whole batch:       psql "$DATABASE_URL" -v batch_id=BATCH_ID -v product_ids= -v platform=both -f scripts/rollback/restore_mappings.sql
-- Chosen products:     psql "$DATABASE_URL" -v batch_id= -v product_ids='{12,15}' -v platform=shopee -f scripts/rollback/restore_mappings.sql
--
-- With a batch, each product and platform goes back to its mapping before the batch's
-- first attempt on it; with products alone, to its mapping before its most recent sync that
-- changed something (manual or batch). A product that had no listing before loses its
-- mapping (the sync created the listing). Later syncs of the same products are undone too
-- (the script says which); products deleted since are left out. `platform` is shopee, tiktok or both. All or nothing: one
-- transaction, and nothing happens without a batch or products.
--
-- This restores the database only. The listings themselves are restored (or deleted) on the
-- marketplaces by the rollback in SyncStore, or by hand from the snapshot's `listing`.

\set ON_ERROR_STOP on
BEGIN;

CREATE TEMP TABLE rollback_scope ON COMMIT DROP AS
SELECT DISTINCT ON (s.product_id, s.platform) s.product_id, s.platform,
       -- A mapping without a listing id (a create that failed earlier) is no mapping.
       CASE WHEN s.mapping->'mapping'->>'external_id' IS NULL THEN NULL ELSE s.mapping END AS mapping,
       s.id AS snapshot_id
FROM sync_snapshots s
JOIN products p ON p.id = s.product_id
-- A rollback's own backups are never the state to go back to.
WHERE s.kind = 'sync'
  AND (NULLIF(:'batch_id', '') IS NULL OR s.batch_id = NULLIF(:'batch_id', ''))
  AND (NULLIF(:'product_ids', '') IS NULL OR s.product_id = ANY (NULLIF(:'product_ids', '')::bigint[]))
  AND (:'platform' = 'both' OR s.platform = :'platform')
  AND (NULLIF(:'batch_id', '') IS NOT NULL OR NULLIF(:'product_ids', '') IS NOT NULL)
ORDER BY s.product_id, s.platform,
         CASE WHEN NULLIF(:'batch_id', '') IS NOT NULL THEN s.id END ASC,
         CASE WHEN NULLIF(:'batch_id', '') IS NULL THEN s.id END DESC;

DO $$
DECLARE
  later text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM rollback_scope) THEN
    RAISE EXCEPTION 'no snapshot matches: check batch_id, product_ids and platform (shopee, tiktok or both)';
  END IF;
  -- Syncs made after the ones undone are undone with them: say which.
  SELECT string_agg(DISTINCT format('%s on %s', s.product_id, s.platform), ', ') INTO later
  FROM rollback_scope r
  JOIN sync_snapshots s ON s.product_id = r.product_id AND s.platform = r.platform
  WHERE s.id > r.snapshot_id AND s.kind = 'sync'
    AND s.batch_id IS DISTINCT FROM (SELECT batch_id FROM sync_snapshots WHERE id = r.snapshot_id);
  IF later IS NOT NULL THEN
    RAISE NOTICE 'later syncs of product % are undone too', later;
  END IF;
END $$;

-- No mapping before: the sync made it. A title override the owner set is theirs, not the
-- sync's: that mapping keeps it and forgets the listing.
DELETE FROM variant_mappings v
USING platform_mappings m, rollback_scope r
WHERE v.mapping_id = m.id AND m.product_id = r.product_id AND m.platform = r.platform
  AND r.mapping IS NULL;
UPDATE platform_mappings m SET external_id = NULL, final_price = NULL, seo_title = NULL,
    category_id = NULL, status = 'not_synced', last_error_code = NULL, last_error = NULL,
    last_synced_at = NULL, tokopedia_status = NULL, listing_platforms = '{}',
    content_hash = NULL, updated_at = now()
FROM rollback_scope r
WHERE r.mapping IS NULL AND m.product_id = r.product_id AND m.platform = r.platform
  AND m.title_override IS NOT NULL;
DELETE FROM platform_mappings m
USING rollback_scope r
WHERE r.mapping IS NULL AND m.product_id = r.product_id AND m.platform = r.platform
  AND m.title_override IS NULL;

-- A mapping before: every column as it was.
INSERT INTO platform_mappings AS m (
    product_id, platform, external_id, final_price, seo_title, title_override, category_id,
    status, last_error_code, last_error, last_synced_at, tokopedia_status, listing_platforms,
    content_hash, updated_at)
SELECT r.product_id, r.platform, h->>'external_id', (h->>'final_price')::bigint, h->>'seo_title',
       h->>'title_override', h->>'category_id', h->>'status', h->>'last_error_code',
       h->>'last_error', (h->>'last_synced_at')::timestamptz, h->>'tokopedia_status',
       ARRAY(SELECT jsonb_array_elements_text(COALESCE(h->'listing_platforms', '[]'::jsonb))),
       h->>'content_hash', now()
FROM rollback_scope r CROSS JOIN LATERAL (SELECT r.mapping->'mapping' AS h) held
WHERE r.mapping IS NOT NULL
ON CONFLICT (product_id, platform) DO UPDATE SET
    external_id = EXCLUDED.external_id, final_price = EXCLUDED.final_price,
    -- The owner's title override stays as it is now.
    seo_title = EXCLUDED.seo_title, title_override = m.title_override,
    category_id = EXCLUDED.category_id, status = EXCLUDED.status,
    last_error_code = EXCLUDED.last_error_code, last_error = EXCLUDED.last_error,
    last_synced_at = EXCLUDED.last_synced_at, tokopedia_status = EXCLUDED.tokopedia_status,
    listing_platforms = EXCLUDED.listing_platforms, content_hash = EXCLUDED.content_hash,
    updated_at = now();

DELETE FROM variant_mappings v
USING platform_mappings m, rollback_scope r
WHERE v.mapping_id = m.id AND m.product_id = r.product_id AND m.platform = r.platform
  AND r.mapping IS NOT NULL;

INSERT INTO variant_mappings (mapping_id, variant_id, external_id, final_price)
SELECT m.id, (v->>'variant_id')::bigint, v->>'external_id', (v->>'final_price')::bigint
FROM rollback_scope r
JOIN platform_mappings m ON m.product_id = r.product_id AND m.platform = r.platform
CROSS JOIN LATERAL jsonb_array_elements(r.mapping->'variants') v
WHERE r.mapping IS NOT NULL
  AND EXISTS (SELECT 1 FROM product_variants pv
              WHERE pv.id = (v->>'variant_id')::bigint AND pv.product_id = r.product_id);

INSERT INTO audit_log (user_id, action, detail)
SELECT NULL, 'rollback.sql', jsonb_build_object(
    'batch_id', NULLIF(:'batch_id', ''), 'product_ids', NULLIF(:'product_ids', ''),
    'platform', :'platform',
    'restored', (SELECT jsonb_agg(jsonb_build_object('product_id', product_id, 'platform', platform,
                                                     'snapshot_id', snapshot_id))
                 FROM rollback_scope));

SELECT product_id, platform,
       CASE WHEN mapping IS NULL THEN 'mapping removed (the sync created it)'
            ELSE 'mapping restored' END AS result
FROM rollback_scope ORDER BY product_id, platform;

COMMIT;
