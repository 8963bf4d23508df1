-- Rows per site, table and calendar month, with each count's cell key: people by the month they
-- were referred (people with no referral date, the comparison group, are left out), spending lines
-- by the month paid, admissions by the month admitted. Keys: a person's record key, a spending line
-- its holder's, an admission its own, summed mod 256. For the Data page's coverage, timeliness and
-- volume by month. Months with no rows are absent.
-- Made at build (build/monthly_row_counts.sql): it does not depend on any filter.
-- Parameters: none. Sources: monthly_row_counts.
with final as (
    select
        site_code,
        tbl,
        month,
        n,
        n_ckey
    from monthly_row_counts
)

select * from final
order by site_code, tbl, month
