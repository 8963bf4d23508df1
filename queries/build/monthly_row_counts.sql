-- Rows per site, table and calendar month, with each count's cell key: people by the month they
-- were referred (people with no referral date, the comparison group, are left out), spending lines
-- by the month paid, admissions by the month admitted. Keys: a person's record key, a spending line
-- its holder's, an admission its own, summed mod 256. For the Data page's coverage, timeliness and
-- volume by month. Months with no rows are absent.
-- Made once at build: the Data page shows it for the whole extract, with no filter.
-- Parameters: none. Sources: people, person_keys, spend_lines, admission_lines (built before this).
with people_months as (
    select
        p.site_code,
        'people' as tbl,
        date_trunc('month', p.referred_on) as month,
        count(*) as n,
        sum(k.record_key) % 256 as n_ckey
    from people as p
    inner join person_keys as k on k.person_id = p.person_id
    where p.referred_on is not null
    group by p.site_code, date_trunc('month', p.referred_on)
),

spend_months as (
    select
        site_code,
        'spend' as tbl,
        date_trunc('month', paid_on) as month,
        count(*) as n,
        sum(record_key) % 256 as n_ckey
    from spend_lines
    group by site_code, date_trunc('month', paid_on)
),

admission_months as (
    select
        site_code,
        'admissions' as tbl,
        date_trunc('month', admitted_on) as month,
        count(*) as n,
        sum(record_key) % 256 as n_ckey
    from admission_lines
    group by site_code, date_trunc('month', admitted_on)
),

final as (
    select * from people_months
    union all
    select * from spend_months
    union all
    select * from admission_months
)

select
    site_code,
    tbl,
    cast(month as date) as month,
    n,
    cast(n_ckey as integer) as n_ckey
from final
