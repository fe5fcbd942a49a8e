-- Fails when the vintage named by the dbt var vintage_id has no rows in raw: a typo in
-- the vintage id, or a vintage not yet ingested. Every model downstream is skipped.
select {{ selected_vintage() }} as vintage_id_without_rows
where not exists (select 1 from {{ ref('stg_wind__firms') }})
