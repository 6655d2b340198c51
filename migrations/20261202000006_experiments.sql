-- Experiments: a tenant's lift tests (geo holdouts, conversion-lift
-- studies, go-dark weeks), the outside evidence a model calibrates
-- against. An analysis snapshots the ones it passes to its model into
-- `analyses.experiments`, so deleting an experiment never changes what an
-- earlier analysis was given, and its inputs digest still names its inputs.

create table experiments (
    tenant_id       uuid not null references tenants (id) on delete cascade,
    id              uuid not null,
    name            text,
    channel         text not null,
    start_date      date not null,
    end_date        date not null,
    spend_change    double precision not null,
    lift            double precision not null,
    standard_error  double precision not null,
    created_by      uuid not null,
    created_at      timestamptz not null default now(),
    primary key (tenant_id, id),
    check (end_date >= start_date),
    check (standard_error > 0),
    check (spend_change <> 0)
);
create index experiments_tenant_channel_idx on experiments (tenant_id, channel, start_date);

alter table experiments enable row level security;
alter table experiments force row level security;
create policy experiments_current on experiments to mmm_app
    using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
create policy experiments_platform on experiments to mmm_platform using (true);

grant select, insert, delete on experiments to mmm_app;
grant select on experiments to mmm_platform;

-- What each analysis handed its model: `[{id, channel, start, end, ...}]`.
alter table analyses add column experiments jsonb not null default '[]';
