-- Spending by category and month or quarter paid, for the selection, with what disclosure control
-- needs over the people paid in each (per-person net sums within the row): `people`, `top1` and
-- `top2` (the two largest absolute contributions, 0 where there are fewer) and `mkey` (the sum of
-- their record keys modulo 256); category null is every category together. Refunds and
-- recoveries are netted here and shown apart elsewhere.
-- Periods wholly inside the selection's dates are combined from spend_cells (built at load; a
-- person's payments all carry one site and one option, so combining its rows is exact); a part
-- period at either end is worked out from its payments, person by person.
-- Parameters: $grain ('month' or 'quarter'), $sites (list or null), $date_from, $date_to (date),
-- $management (list or null).
-- Sources: spend_cells, spend_lines and spend_period, built at load.
with bounds as (
    -- the first period starting on or after $date_from, and the start of the period holding the day
    -- after $date_to: the periods from one to before the other lie wholly inside the dates. A period
    -- cut by the dates but holding no spending outside them (the dates reach past the data's first or
    -- last day, spend_period) is whole too: the page opens on the whole period, whose end month is
    -- then read from spend_cells, not line by line (at a million people, 40 ms to 10 ms)
    select
        case
            when cast(date_trunc($grain, $date_from::date) as date) = $date_from::date
                or $date_from::date <= p.first_day
                then cast(date_trunc($grain, $date_from::date) as date)
            else cast(
                date_trunc($grain, $date_from::date)
                + case when $grain = 'month' then interval 1 month else interval 3 month end as date
            )
        end as whole_from,
        case
            when $date_to::date >= p.last_day
                then cast(
                    date_trunc($grain, $date_to::date)
                    + case when $grain = 'month' then interval 1 month else interval 3 month end as date
                )
            else cast(date_trunc($grain, $date_to::date + interval 1 day) as date)
        end as whole_before
    from spend_period as p
),

whole as (
    select
        c.period_start,
        c.category,
        sum(c.net_gbp) as net_gbp,
        cast(sum(c.people) as bigint) as people,
        max(c.top1) as top1,
        combined_top2(c.top1, c.top2) as top2,
        cast(sum(c.keys) % 256 as integer) as mkey
    from spend_cells as c
    cross join bounds as b
    where c.grain = $grain
        and c.period_start >= b.whole_from
        and c.period_start < b.whole_before
        and in_selection(c.site_code, $sites)
        and in_selection(c.management_option, $management)
    group by c.period_start, c.category
),

lines as (
    -- the payments in the part periods at either end, line by line from spend_lines (stored in date
    -- order): from $date_from to the day before the first whole period, and from the start of the
    -- period holding the day after $date_to (no earlier than the first whole period, so where the dates
    -- lie inside one period no payment is read twice) to $date_to
    select
        cast(date_trunc($grain, s.paid_on) as date) as period_start,
        s.category,
        s.person_key,
        s.record_key,
        s.amount_gbp
    from spend_lines as s
    where s.paid_on >= $date_from::date
        and s.paid_on <= $date_to::date
        and (
            s.paid_on < (select whole_from from bounds)
            or s.paid_on >= (select greatest(whole_before, whole_from) from bounds)
        )
        -- the same from the parameters alone, looser (a part period lies in the period holding $date_from or in
        -- the one holding $date_to): DuckDB tests this against each row group's first and last dates and skips
        -- the rest, where the test above, through a subquery, read every line's date (at a million people, one
        -- site over the whole period: 38 ms to 10 ms)
        and (
            s.paid_on < cast(
                date_trunc($grain, $date_from::date)
                + case when $grain = 'month' then interval 1 month else interval 3 month end as date
            )
            or s.paid_on >= cast(date_trunc($grain, $date_to::date) as date)
        )
        and in_selection(s.site_code, $sites)
        and in_selection(s.management_option, $management)
),

per_person as (
    select
        grouping(period_start) * 2 + grouping(category) as level,
        period_start,
        category,
        person_key,
        any_value(record_key) as record_key,
        sum(amount_gbp) as net_gbp
    from lines
    group by grouping sets ((period_start, category, person_key), (period_start, person_key))
),

part as (
    select
        period_start,
        category,
        sum(net_gbp) as net_gbp,
        count(*) as people,
        coalesce(max(abs(net_gbp), 2)[1], 0) as top1,
        coalesce(max(abs(net_gbp), 2)[2], 0) as top2,
        cast(sum(record_key) % 256 as integer) as mkey
    from per_person
    group by level, period_start, category
),

final as (
    select * from whole
    union all
    select * from part
)

select * from final
order by period_start, category nulls last
