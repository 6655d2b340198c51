-- The plugin registry. Global plugins (built into the server, or published by
-- platform admins) are readable by every tenant; a tenant's private plugins
-- live under RLS like all tenant data. Published versions never change:
-- only built-in rows may be replaced, by the server at start, when a new
-- build of the server ships a rebuilt plugin under the same version.

create table plugins (
    name           text not null,
    version        text not null,
    kind           text not null,
    description    text not null,
    author         text not null,
    params_schema  jsonb not null,
    sha256         text not null,
    size_bytes     bigint not null,
    wasm           bytea not null,
    builtin        boolean not null default false,
    published_by   uuid,
    created_at     timestamptz not null default now(),
    primary key (name, version),
    constraint plugins_kind_check check (kind in ('preprocessor', 'model'))
);

create table tenant_plugins (
    tenant_id      uuid not null references tenants (id) on delete cascade,
    name           text not null,
    version        text not null,
    kind           text not null,
    description    text not null,
    author         text not null,
    params_schema  jsonb not null,
    sha256         text not null,
    size_bytes     bigint not null,
    wasm           bytea not null,
    published_by   uuid not null,
    created_at     timestamptz not null default now(),
    primary key (tenant_id, name, version),
    constraint tenant_plugins_kind_check check (kind in ('preprocessor', 'model'))
);

-- One row per plugin call made for a tenant, for statistics and audit.
create table plugin_runs (
    tenant_id       uuid not null references tenants (id) on delete cascade,
    id              uuid not null,
    plugin_name     text not null,
    plugin_version  text not null,
    succeeded       boolean not null,
    error_code      text,
    duration_ms     bigint not null,
    input_bytes     bigint not null,
    output_bytes    bigint not null,
    run_by          uuid not null,
    created_at      timestamptz not null default now(),
    primary key (tenant_id, id)
);
create index plugin_runs_tenant_created_idx on plugin_runs (tenant_id, created_at);

create function plugins_refuse_change() returns trigger
language plpgsql
as $$
begin
    if tg_op = 'DELETE' or not old.builtin then
        raise exception 'published plugin %@% is immutable', old.name, old.version
            using errcode = 'integrity_constraint_violation';
    end if;
    return new;
end
$$;
create trigger plugins_immutable before update or delete on plugins
    for each row execute function plugins_refuse_change();

alter table plugins enable row level security;
alter table plugins force row level security;
create policy plugins_readable on plugins to mmm_app using (true);
create policy plugins_platform on plugins to mmm_platform using (true) with check (true);

alter table tenant_plugins enable row level security;
alter table tenant_plugins force row level security;
create policy tenant_plugins_current on tenant_plugins to mmm_app
    using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
create policy tenant_plugins_platform on tenant_plugins to mmm_platform
    using (true) with check (true);

alter table plugin_runs enable row level security;
alter table plugin_runs force row level security;
create policy plugin_runs_current on plugin_runs to mmm_app
    using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
create policy plugin_runs_platform on plugin_runs to mmm_platform
    using (true) with check (true);

grant select on plugins to mmm_app;
grant select, insert on tenant_plugins, plugin_runs to mmm_app;
grant select, insert, update on plugins to mmm_platform;
grant select on tenant_plugins, plugin_runs to mmm_platform;
