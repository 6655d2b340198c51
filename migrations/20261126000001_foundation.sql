-- Foundation: tenants, their users and features, refresh tokens, platform
-- admins and the audit log. Roles mmm_app (request pool) and mmm_platform
-- (platform-admin pool) are created by the server before migrations run,
-- because roles are cluster-wide while migrations are per database.

-- The tenant a transaction acts for. After a first set_config(.., true) the
-- setting reads '' rather than NULL outside the transaction, so both mean
-- "no tenant": zero rows, failed writes.
create function app_current_tenant() returns uuid
language sql stable
as $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$;

create table tenants (
    id          uuid primary key,
    slug        text not null,
    name        text not null,
    status      text not null default 'active',
    plan        text not null default 'free',
    settings    jsonb not null default '{}'::jsonb,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint tenants_slug_key unique (slug),
    constraint tenants_status_check check (status in ('active', 'suspended')),
    constraint tenants_settings_object check (jsonb_typeof(settings) = 'object')
);

create table users (
    tenant_id      uuid not null references tenants (id) on delete cascade,
    id             uuid not null,
    email          text not null,
    password_hash  text not null,
    role           text not null,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint users_tenant_id_email_key unique (tenant_id, email),
    constraint users_role_check check (role in ('tenant_admin', 'data_scientist', 'analyst', 'viewer'))
);

create table refresh_tokens (
    tenant_id   uuid not null,
    id          uuid not null,
    user_id     uuid not null,
    family_id   uuid not null,
    token_hash  bytea not null,
    expires_at  timestamptz not null,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz not null default now(),
    primary key (tenant_id, id),
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade,
    constraint refresh_tokens_hash_key unique (tenant_id, token_hash)
);
create index refresh_tokens_family_idx on refresh_tokens (tenant_id, family_id);

create table tenant_features (
    tenant_id   uuid not null references tenants (id) on delete cascade,
    key         text not null,
    enabled     boolean not null,
    config      jsonb not null default '{}'::jsonb,
    updated_at  timestamptz not null default now(),
    primary key (tenant_id, key)
);

create table platform_admins (
    id             uuid primary key,
    email          text not null,
    password_hash  text not null,
    created_at     timestamptz not null default now(),
    constraint platform_admins_email_key unique (email)
);

create table platform_refresh_tokens (
    id          uuid primary key,
    admin_id    uuid not null references platform_admins (id) on delete cascade,
    family_id   uuid not null,
    token_hash  bytea not null,
    expires_at  timestamptz not null,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz not null default now(),
    constraint platform_refresh_tokens_hash_key unique (token_hash)
);
create index platform_refresh_tokens_family_idx on platform_refresh_tokens (family_id);

-- Admin actions, by platform admins on any tenant or by tenant admins on
-- their own. tenant_id is null only for platform-wide actions.
create table audit_log (
    id          bigint generated always as identity primary key,
    tenant_id   uuid references tenants (id) on delete cascade,
    actor_id    uuid not null,
    actor_role  text not null,
    action      text not null,
    details     jsonb not null default '{}'::jsonb,
    created_at  timestamptz not null default now()
);
create index audit_log_tenant_idx on audit_log (tenant_id, created_at);

-- Row-level security: enabled and forced everywhere; the request role sees
-- only the current tenant, the platform role has explicit policies.
alter table tenants enable row level security;
alter table tenants force row level security;
create policy tenants_current on tenants to mmm_app
    using (id = app_current_tenant());
create policy tenants_platform on tenants to mmm_platform
    using (true) with check (true);

alter table users enable row level security;
alter table users force row level security;
create policy users_current on users to mmm_app
    using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
create policy users_platform on users to mmm_platform
    using (true) with check (true);

alter table refresh_tokens enable row level security;
alter table refresh_tokens force row level security;
create policy refresh_tokens_current on refresh_tokens to mmm_app
    using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
create policy refresh_tokens_platform on refresh_tokens to mmm_platform
    using (true) with check (true);

alter table tenant_features enable row level security;
alter table tenant_features force row level security;
create policy tenant_features_current on tenant_features to mmm_app
    using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
create policy tenant_features_platform on tenant_features to mmm_platform
    using (true) with check (true);

alter table audit_log enable row level security;
alter table audit_log force row level security;
create policy audit_log_current on audit_log to mmm_app
    using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
create policy audit_log_platform on audit_log to mmm_platform
    using (true) with check (true);

alter table platform_admins enable row level security;
alter table platform_admins force row level security;
create policy platform_admins_platform on platform_admins to mmm_platform
    using (true) with check (true);

alter table platform_refresh_tokens enable row level security;
alter table platform_refresh_tokens force row level security;
create policy platform_refresh_tokens_platform on platform_refresh_tokens to mmm_platform
    using (true) with check (true);

-- No TRUNCATE, no DDL for either role.
grant select on tenants to mmm_app;
grant select, insert, update, delete on users, refresh_tokens, tenant_features to mmm_app;
grant select, insert on audit_log to mmm_app;

grant select, insert, update on tenants to mmm_platform;
grant select, insert, update, delete on users, refresh_tokens, tenant_features to mmm_platform;
grant select, insert, update, delete on platform_admins, platform_refresh_tokens to mmm_platform;
grant select, insert on audit_log to mmm_platform;
