{#
  Row-level security for pay data on the PostgreSQL target (docs/pay-data-protection.md).

  On PostgreSQL the dbt marts are what BI tools read, so the database itself decides which payout rows a login
  may see:
    * spm_finance  - every row;
    * spm_rep      - the rows of the employee its login is mapped to in security.payee_logins;
    * spm_manager  - its own rows and those of everyone who reported to it, directly or through other managers,
                     at any time during the row's month (security.team_members_monthly).
  A login that is in a group but not mapped sees no rows; a login in no group has no privilege at all.
  Every macro here is a no-op on DuckDB and Spark (the default__ implementations): the embedded DuckDB file is
  protected by file access, and the publication step serves it.

  Policies belong to a table, and dbt replaces tables (table materialisation, full refresh), so the policies are
  (re)created by a post-hook of every protected model, inside the transaction that swaps the new table in:
  a reader never sees the new table without its policies.
#}

{#- The group roles, in one place. -#}
{% macro pay_data_roles() -%}
    {{ return({'finance': 'spm_finance', 'manager': 'spm_manager', 'rep': 'spm_rep'}) }}
{%- endmacro %}


{#
  on-run-start: the group roles, the `security` schema and the admin-managed login mapping
  security.payee_logins(login_role, employee_id). dbt never drops or rebuilds that table: admins insert a row
  when they give a person a login. Creating roles needs CREATEROLE; where the dbt role lacks it, a DBA creates
  the three roles once (docs/pay-data-protection.md) and this finds them. Usage on the schemas is granted here
  (the protected tables live in `marts` and `security`); the tables' own grants come with each model.
#}
{% macro create_pay_data_security() -%}
    {{ return(adapter.dispatch('create_pay_data_security')()) }}
{%- endmacro %}

{% macro default__create_pay_data_security() -%}
{%- endmacro %}

{% macro postgres__create_pay_data_security() -%}
    {%- set roles = pay_data_roles() -%}
    do $$
    begin
        {%- for role in roles.values() %}
        if not exists (select 1 from pg_catalog.pg_roles where rolname = '{{ role }}') then
            create role {{ role }} nologin;
        end if;
        {%- endfor %}
    end
    $$;
    {#- schema privileges here, once per run, not in each model's post-hook: two dbt threads granting on one
        schema at the same time fail with "tuple concurrently updated" -#}
    create schema if not exists security;
    create schema if not exists marts;
    grant usage on schema security, marts to {{ roles.values() | join(', ') }};
    create table if not exists security.payee_logins (
        login_role text primary key,
        employee_id text not null,
        granted_at timestamp not null default current_timestamp,
        note text
    );
    comment on table security.payee_logins is
        'Which database login is which employee (admin-managed; read by the pay-data row-level security policies). Grain: one row per login_role.';
    alter table security.payee_logins enable row level security;
    grant select on security.payee_logins to {{ roles.values() | join(', ') }};
    drop policy if exists spm_finance_all on security.payee_logins;
    create policy spm_finance_all on security.payee_logins for select to {{ roles.finance }} using (true);
    drop policy if exists spm_own_login on security.payee_logins;
    create policy spm_own_login on security.payee_logins for select to {{ roles.rep }}, {{ roles.manager }}
        using (login_role = current_user);
{%- endmacro %}


{#
  Post-hook of every per-payee mart: enable row-level security and (re)create the policies.
  employee_column: the payee column; month_column: the month the row belongs to (payout_month,
  attainment_month, ...), or none for a table without one (dim_employees), where a manager sees everyone who
  was ever on their team.
  FORCE is not used on purpose: it would subject the table owner, which is the dbt build role, to the policies,
  and dbt must read every row to build and test the marts. Every other non-superuser role is subject to them.
#}
{% macro payee_row_security(month_column=none, employee_column='employee_id') -%}
    {{ return(adapter.dispatch('payee_row_security')(month_column, employee_column)) }}
{%- endmacro %}

{% macro default__payee_row_security(month_column, employee_column) -%}
{%- endmacro %}

{% macro postgres__payee_row_security(month_column, employee_column) -%}
    {%- set roles = pay_data_roles() -%}
    {%- set table = this.identifier -%}
    alter table {{ this }} enable row level security;
    grant select on {{ this }} to {{ roles.values() | join(', ') }};
    drop policy if exists spm_finance_all on {{ this }};
    create policy spm_finance_all on {{ this }} for select to {{ roles.finance }} using (true);
    drop policy if exists spm_payee_own on {{ this }};
    create policy spm_payee_own on {{ this }} for select to {{ roles.rep }}, {{ roles.manager }}
        using ({{ employee_column }} in (
            select logins.employee_id from security.payee_logins as logins where logins.login_role = current_user
        ));
    drop policy if exists spm_manager_team on {{ this }};
    {#- a correlated EXISTS (not IN) so PostgreSQL plans it as a semi-join; the protected table's columns are
        qualified with its name, which is how a policy expression names them -#}
    create policy spm_manager_team on {{ this }} for select to {{ roles.manager }}
        using (exists (
            select 1
            from security.payee_logins as logins
            inner join {{ ref('team_members_monthly') }} as team
                on logins.employee_id = team.manager_employee_id
            where logins.login_role = current_user
                and team.member_employee_id = {{ table }}.{{ employee_column }}
                {%- if month_column is not none %}
                and team.team_month = {{ table }}.{{ month_column }}
                {%- endif %}
        ));
{%- endmacro %}


{#
  Post-hook of security.team_members_monthly itself: the policies above read it with the privileges of the
  querying login, so a manager may read it - but only the rows of their own team; reps get no access.
#}
{% macro team_membership_security() -%}
    {{ return(adapter.dispatch('team_membership_security')()) }}
{%- endmacro %}

{% macro default__team_membership_security() -%}
{%- endmacro %}

{% macro postgres__team_membership_security() -%}
    {%- set roles = pay_data_roles() -%}
    {#- the manager policy looks members up by (manager, member, month) on every query. The name is per run:
        while dbt swaps tables the replaced one still holds its index under the old name -#}
    create index {{ this.identifier }}_lookup_{{ invocation_id | replace('-', '') }}
        on {{ this }} (manager_employee_id, member_employee_id, team_month);
    alter table {{ this }} enable row level security;
    grant select on {{ this }} to {{ roles.finance }}, {{ roles.manager }};
    drop policy if exists spm_finance_all on {{ this }};
    create policy spm_finance_all on {{ this }} for select to {{ roles.finance }} using (true);
    drop policy if exists spm_manager_own_team on {{ this }};
    create policy spm_manager_own_team on {{ this }} for select to {{ roles.manager }}
        using (manager_employee_id in (
            select logins.employee_id from security.payee_logins as logins where logins.login_role = current_user
        ));
{%- endmacro %}


{#
  Post-hook of marts without per-payee rows to filter: a plain grant to the named groups ('finance',
  'manager', 'rep'). Plan definitions are for everyone paid on them; ARR and retention by rep name other reps'
  books, so they are for finance. Without a grant no other role can read a table at all.
#}
{% macro grant_read(groups) -%}
    {{ return(adapter.dispatch('grant_read')(groups)) }}
{%- endmacro %}

{% macro default__grant_read(groups) -%}
{%- endmacro %}

{% macro postgres__grant_read(groups) -%}
    {%- set roles = pay_data_roles() -%}
    {%- set grantees = [] -%}
    {%- for group in groups -%}{%- do grantees.append(roles[group]) -%}{%- endfor -%}
    grant select on {{ this }} to {{ grantees | join(', ') }};
{%- endmacro %}
