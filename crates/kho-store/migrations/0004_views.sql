-- Lượt xem — how many times each dataset's public page was viewed, for the portal's
-- "most viewed". Views are not changes to the catalogue, so they are not audited.

CREATE TABLE dataset_views (
    resource_id    TEXT PRIMARY KEY,
    views          BIGINT NOT NULL,
    last_viewed_at TEXT NOT NULL
);
CREATE INDEX dataset_views_views ON dataset_views (views);
