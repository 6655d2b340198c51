-- Operations across instances: what must hold the same on every server
-- behind a load balancer lives here, not in one process's memory.

-- A user whose role changes or who is deleted: every instance drops its
-- cached revocation check for that user (host/src/auth/accounts.rs), on the
-- channel tenant changes already use, as `<tenant>:<user>`. Delivered at
-- commit, so no instance sees the change before it is durable.
create function users_notify() returns trigger
language plpgsql
set search_path = pg_catalog
as $$
begin
    perform pg_notify('mmm_tenant_changed', old.tenant_id::text || ':' || old.id::text);
    return null;
end;
$$;

create trigger users_changed after update of role or delete on users
    for each row execute function users_notify();

-- The login throttle (host/src/auth/throttle.rs): attempts per account name
-- in the current window, shared by every instance. The key is a digest of
-- tenant and email, so the table holds no email addresses; rows exist for
-- names that do not exist as accounts too, so it reveals nothing.
create table login_attempts (
    account_key   text primary key,
    attempts      integer not null,
    window_start  timestamptz not null default now(),
    constraint login_attempts_attempts_check check (attempts > 0)
);
create index login_attempts_window_idx on login_attempts (window_start);

-- Used only by the anonymous login route, which runs as the platform role.
alter table login_attempts enable row level security;
alter table login_attempts force row level security;
create policy login_attempts_platform on login_attempts to mmm_platform
    using (true) with check (true);
grant select, insert, update, delete on login_attempts to mmm_platform;
