-- Recommendations: budget allocations optimised over a succeeded analysis's
-- model, stored with the request that produced them. The default one per
-- analysis (what `GET /tenant/recommendations` shows) is computed on first
-- request; the partial unique index makes a concurrent second one a no-op.

create table recommendations (
    tenant_id        uuid not null references tenants (id) on delete cascade,
    id               uuid not null,
    analysis_id      uuid not null,
    -- The analysis's results_digest when computed: a default for other
    -- results is stale.
    results_digest   text not null,
    is_default       boolean not null,
    -- The request as resolved: objective, budget, horizon, bounds.
    request          jsonb not null,
    -- The answer as served.
    body             jsonb not null,
    created_by       uuid not null,
    created_at       timestamptz not null default now(),
    primary key (tenant_id, id),
    foreign key (tenant_id, analysis_id) references analyses (tenant_id, id) on delete cascade
);
create index recommendations_tenant_created_idx on recommendations (tenant_id, created_at desc);
create unique index recommendations_default_idx on recommendations (tenant_id, analysis_id, results_digest)
    where is_default;

alter table recommendations enable row level security;
alter table recommendations force row level security;
create policy recommendations_current on recommendations to mmm_app
    using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
create policy recommendations_platform on recommendations to mmm_platform using (true);

grant select, insert on recommendations to mmm_app;
grant select on recommendations to mmm_platform;
