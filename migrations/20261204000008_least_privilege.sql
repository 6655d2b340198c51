-- Least privilege for the platform role (mmm_platform). It reads across
-- tenants (admin API, statistics, the queue) but writes a tenant's rows only
-- where the code needs it, and then only with that tenant named:
--
-- * users, refresh_tokens, tenant_features, tenant_plugins, plugin_runs:
--   read only. Every write of these runs as the request role under the
--   tenant's own context (host/src/db/mod.rs `TenantTx`).
-- * audit_log: insert only platform-wide rows (tenant_id null) or rows of
--   the tenant the transaction names (`PlatformTx::act_for`), never update.
-- * analyses: the queue's transitions only (claim, lease takeover, reap;
--   host/src/db/queue.rs), by column: the platform role cannot insert a job
--   or change what a job runs, for whom, or its result.
--
-- The tables that are the platform's own (tenants, platform_admins,
-- platform_refresh_tokens, plugins, analysis_queue_turns, login_attempts)
-- keep their grants: they hold no tenant data.

revoke insert, update, delete on users, refresh_tokens, tenant_features from mmm_platform;

drop policy users_platform on users;
create policy users_platform on users for select to mmm_platform using (true);

drop policy refresh_tokens_platform on refresh_tokens;
create policy refresh_tokens_platform on refresh_tokens for select to mmm_platform using (true);

drop policy tenant_features_platform on tenant_features;
create policy tenant_features_platform on tenant_features for select to mmm_platform using (true);

drop policy tenant_plugins_platform on tenant_plugins;
create policy tenant_plugins_platform on tenant_plugins for select to mmm_platform using (true);

drop policy plugin_runs_platform on plugin_runs;
create policy plugin_runs_platform on plugin_runs for select to mmm_platform using (true);

drop policy audit_log_platform on audit_log;
create policy audit_log_platform_read on audit_log for select to mmm_platform using (true);
create policy audit_log_platform_write on audit_log for insert to mmm_platform
    with check (tenant_id is null or tenant_id = app_current_tenant());

drop policy analyses_platform on analyses;
create policy analyses_platform_read on analyses for select to mmm_platform using (true);
create policy analyses_platform_queue on analyses for update to mmm_platform
    using (true) with check (true);
revoke update on analyses from mmm_platform;
grant update (status, stage, attempts, lease_owner, lease_token, lease_expires_at,
              started_at, finished_at, error, updated_at)
    on analyses to mmm_platform;
