-- The spending in the user's selection, as rows of a table: paid between date_from and date_to, at
-- a chosen site, from a budget under a chosen management option, with the person's key and record
-- key. Whole calendar months inside the period come from spend_person_months, a person's payments
-- and their refunds and recoveries in a month and category as one row each; the part months at
-- either end come line by line from spend_lines. So a sum of amount_gbp per person (and of its
-- positive or negative amounts) over any rows of it is the same as over the lines, and paid_on
-- truncated to a month or quarter is the line's month or quarter; it is not a count of lines.
-- Used as spend_in_selection($date_from, $date_to, $sites, $management).
create macro spend_in_selection(date_from, date_to, sites, management) as table
    select
        site_code,
        management_option,
        category,
        month as paid_on,
        person_key,
        record_key,
        paid_gbp as amount_gbp
    from spend_person_months
    where month >= date_from::date
        and month + interval 1 month <= date_to::date + interval 1 day
        and paid_gbp <> 0
        and in_selection(site_code, sites)
        and in_selection(management_option, management)
    union all
    select
        site_code,
        management_option,
        category,
        month as paid_on,
        person_key,
        record_key,
        refunded_gbp as amount_gbp
    from spend_person_months
    where month >= date_from::date
        and month + interval 1 month <= date_to::date + interval 1 day
        and refunded_gbp <> 0
        and in_selection(site_code, sites)
        and in_selection(management_option, management)
    union all
    -- the first month of the period, where only part of it is in the period
    select
        site_code,
        management_option,
        category,
        paid_on,
        person_key,
        record_key,
        amount_gbp
    from spend_lines
    where paid_on >= date_from::date
        and paid_on <= date_to::date
        and paid_on < date_trunc('month', date_from::date) + interval 1 month
        and not (
            date_trunc('month', date_from::date) >= date_from::date
            and date_trunc('month', date_from::date) + interval 1 month <= date_to::date + interval 1 day
        )
        and in_selection(site_code, sites)
        and in_selection(management_option, management)
    union all
    -- the last month, where only part of it is in the period and it is not also the first
    select
        site_code,
        management_option,
        category,
        paid_on,
        person_key,
        record_key,
        amount_gbp
    from spend_lines
    where paid_on >= date_trunc('month', date_to::date)
        and paid_on >= date_from::date
        and paid_on <= date_to::date
        and date_trunc('month', date_to::date) > date_trunc('month', date_from::date)
        and not (
            date_trunc('month', date_to::date) >= date_from::date
            and date_trunc('month', date_to::date) + interval 1 month <= date_to::date + interval 1 day
        )
        and in_selection(site_code, sites)
        and in_selection(management_option, management)
