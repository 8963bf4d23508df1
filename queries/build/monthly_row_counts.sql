-- Rows per site, table and calendar month, with each count's cell key: people by the month they
-- were referred (people with no referral date, the comparison group, are left out), spending lines
-- by the month paid, admissions by the month admitted. Keys: a person's record key, a spending line
-- its holder's, an admission its own, summed mod 256. For the Data page's coverage, timeliness and
-- volume by month. Months with no rows are absent.
-- Made once at build: the Data page shows it for the whole extract, with no filter.
-- Parameters: none. Sources: people_keyed, spend_lines, admission_lines (built before this).
with dated_rows as (
    -- every row with its site, table, the date it is counted by and its record key
    select site_code, 'people' as tbl, referred_on as counted_on, record_key
    from people_keyed
    where referred_on is not null
    union all
    select site_code, 'spend', paid_on, record_key
    from spend_lines
    union all
    select site_code, 'admissions', admitted_on, record_key
    from admission_lines
),

final as (
    select
        site_code,
        tbl,
        cast(date_trunc('month', counted_on) as date) as month,
        count(*) as n,
        cast(sum(record_key) % 256 as integer) as n_ckey
    from dated_rows
    group by site_code, tbl, date_trunc('month', counted_on)
)

select * from final
