-- Marketing data: each upload is one immutable version of a named data
-- source. The table itself is kept as Arrow IPC bytes (canonical: the date
-- column as dates, roles' columns as float64, other columns as uploaded)
-- with their sha256, so an analysis that names (source, version) names the
-- exact data it read. No file system path is involved.

create table data_sources (
    tenant_id     uuid not null references tenants (id) on delete cascade,
    id            uuid not null,
    name          text not null,
    version       integer not null,
    roles         jsonb not null,
    granularity   text not null,
    currency      text,
    row_count     integer not null,
    date_from     date not null,
    date_to       date not null,
    columns       jsonb not null,
    warnings      jsonb not null,
    sha256        text not null,
    size_bytes    bigint not null,
    content       bytea not null,
    uploaded_by   uuid not null,
    created_at    timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint data_sources_tenant_name_version_key unique (tenant_id, name, version),
    constraint data_sources_granularity_check check (granularity in ('daily', 'weekly', 'monthly')),
    constraint data_sources_version_check check (version >= 1)
);
create index data_sources_tenant_created_idx on data_sources (tenant_id, created_at);

-- Versions are immutable: rows may be inserted and deleted, never changed.
create function data_sources_refuse_update() returns trigger
language plpgsql
as $$
begin
    raise exception 'data source versions are immutable'
        using errcode = 'integrity_constraint_violation';
end
$$;
create trigger data_sources_immutable before update on data_sources
    for each row execute function data_sources_refuse_update();

alter table data_sources enable row level security;
alter table data_sources force row level security;
create policy data_sources_current on data_sources to mmm_app
    using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
create policy data_sources_platform on data_sources to mmm_platform using (true);

grant select, insert, delete on data_sources to mmm_app;
grant select on data_sources to mmm_platform;
