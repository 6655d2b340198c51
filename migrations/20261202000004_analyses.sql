-- Analyses: one row per requested model run, which is also its job in the
-- queue. Tenants see and change their rows only under RLS (mmm_app); the
-- workers claim and reap across tenants through the platform role, then
-- read inputs and write results as the tenant.
--
-- A claimed row carries a lease (`lease_token`, `lease_expires_at`) that the
-- worker's heartbeat renews; every write a worker makes is conditional on
-- still holding the token, so a worker whose lease expired (and whose job
-- another worker took) can no longer change the row or add a result.

create table analyses (
    tenant_id         uuid not null references tenants (id) on delete cascade,
    id                uuid not null,
    source_id         uuid not null,
    source_name       text not null,
    source_version    integer not null,
    source_sha256     text not null,
    -- {name, version, sha256, params}
    model             jsonb not null,
    -- [{name, version, sha256, params}], in the order they run
    preprocessors     jsonb not null,
    seed              bigint,
    -- sha256 of the canonical inputs: equal digests give equal results
    inputs_digest     text not null,
    idempotency_key   text,
    -- sha256 of the request an idempotency key was first used with
    request_digest    text,
    status            text not null default 'queued',
    stage             text not null default 'queued',
    progress_done     bigint not null default 0,
    progress_total    bigint not null default 0,
    attempts          integer not null default 0,
    max_attempts      integer not null,
    run_after         timestamptz not null default now(),
    lease_owner       text,
    lease_token       uuid,
    lease_expires_at  timestamptz,
    cancel_requested  boolean not null default false,
    -- {code, message, fault, plugin?}: the last cause of a failure or retry
    error             jsonb,
    summary           jsonb,
    requested_by      uuid not null,
    created_at        timestamptz not null default now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    updated_at        timestamptz not null default now(),
    primary key (tenant_id, id),
    -- A source with analyses cannot be deleted (409): results name it.
    foreign key (tenant_id, source_id) references data_sources (tenant_id, id),
    constraint analyses_idempotency_key unique (tenant_id, idempotency_key),
    constraint analyses_status_check
        check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    constraint analyses_progress_check check (progress_done >= 0 and progress_total >= 0)
);
create index analyses_tenant_created_idx on analyses (tenant_id, created_at desc);
-- What the claim scans: runnable rows only.
create index analyses_claimable_idx on analyses (run_after, created_at)
    where status in ('queued', 'running');

-- One result per analysis: the primary key makes a second one impossible.
create table analysis_results (
    tenant_id        uuid not null,
    analysis_id      uuid not null,
    summary          jsonb not null,
    decomposition    bytea not null,
    response_curves  bytea not null,
    artifact         bytea not null,
    -- sha256 of summary text, decomposition, curves and artifact
    results_digest   text not null,
    fit_ms           bigint not null,
    worker           text not null,
    created_at       timestamptz not null default now(),
    primary key (tenant_id, analysis_id),
    foreign key (tenant_id, analysis_id) references analyses (tenant_id, id) on delete cascade
);

-- When each tenant was last served by the queue: the claim serves the
-- tenant with the fewest running analyses first, then the one waiting longest.
create table analysis_queue_turns (
    tenant_id       uuid primary key references tenants (id) on delete cascade,
    last_claimed_at timestamptz not null
);

alter table analyses enable row level security;
alter table analyses force row level security;
create policy analyses_current on analyses to mmm_app
    using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
create policy analyses_platform on analyses to mmm_platform using (true) with check (true);

alter table analysis_results enable row level security;
alter table analysis_results force row level security;
create policy analysis_results_current on analysis_results to mmm_app
    using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
create policy analysis_results_platform on analysis_results to mmm_platform using (true);

alter table analysis_queue_turns enable row level security;
alter table analysis_queue_turns force row level security;
create policy analysis_queue_turns_platform on analysis_queue_turns to mmm_platform
    using (true) with check (true);

grant select, insert, update on analyses to mmm_app;
grant select, insert on analysis_results to mmm_app;
grant select, update on analyses to mmm_platform;
grant select on analysis_results to mmm_platform;
grant select, insert, update on analysis_queue_turns to mmm_platform;

-- Every change of an analysis is announced (delivered at commit), so event
-- streams and the worker holding it learn of progress and cancels at once,
-- on every instance and worker process.
create function analyses_notify() returns trigger
language plpgsql
as $$
begin
    perform pg_notify('mmm_analysis_changed', new.tenant_id::text || ':' || new.id::text);
    return null;
end
$$;
create trigger analyses_changed after insert or update on analyses
    for each row execute function analyses_notify();
