-- One row per site, management option, category and month of payment: spending, refunds and
-- recoveries (negative lines, kept apart), lines, and people paid.
-- Parameters: none. Sources: spend_lines (built before this).
with final as (
    select
        site_code,
        management_option,
        category,
        cast(date_trunc('month', paid_on) as date) as month,
        sum(amount_gbp) filter (where amount_gbp > 0) as spend_gbp,
        coalesce(sum(amount_gbp) filter (where amount_gbp < 0), 0) as refunds_gbp,
        count(*) as lines,
        count(distinct person_key) as people
    from spend_lines
    group by all
)

select * from final
