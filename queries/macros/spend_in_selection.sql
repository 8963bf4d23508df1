-- The spending in the user's selection, as rows of a table: paid between date_from and date_to, at
-- a chosen site, from a budget under a chosen management option, with the person's key and record
-- key, and the money as two columns: paid_gbp (payments, 0 or more) and refunded_gbp (refunds and
-- recoveries, 0 or less). Whole calendar months inside the period come from spend_person_months, a
-- person's payments and their refunds and recoveries in a month and category as one row; the part
-- months at either end come line by line from spend_lines (a payment line's amount in paid_gbp, a
-- refund's in refunded_gbp). So a sum of paid_gbp or refunded_gbp per person over any rows of it
-- is the same as over the lines, and paid_on truncated to a month or quarter is the line's month
-- or quarter; it is not a count of lines.
-- Each table is read once: the months from the first month starting on or after date_from to the
-- last month ending on or before date_to, and the lines of the month holding date_from (where it
-- does not start on the 1st) and of the month holding date_to (where it does not end on its last
-- day); a line in both, when the dates lie inside one month, is still read once.
-- Used as spend_in_selection($date_from, $date_to, $sites, $management).
create macro spend_in_selection(date_from, date_to, sites, management) as table
    select
        site_code,
        management_option,
        category,
        month as paid_on,
        person_key,
        record_key,
        paid_gbp,
        refunded_gbp
    from spend_person_months
    where month >= date_from::date
        and month <= cast(date_trunc('month', date_to::date + interval 1 day) - interval 1 month as date)
        and in_selection(site_code, sites)
        and in_selection(management_option, management)
    union all
    select
        site_code,
        management_option,
        category,
        paid_on,
        person_key,
        record_key,
        greatest(amount_gbp, 0) as paid_gbp,
        least(amount_gbp, 0) as refunded_gbp
    from spend_lines
    where paid_on >= date_from::date
        and paid_on <= date_to::date
        and (
            -- the month holding date_from, where date_from is not its 1st
            (
                paid_on < date_trunc('month', date_from::date) + interval 1 month
                and date_trunc('month', date_from::date) < date_from::date
            )
            -- the month holding date_to, where date_to is not its last day
            or (
                paid_on >= date_trunc('month', date_to::date)
                and date_trunc('month', date_to::date + interval 1 day) = date_trunc('month', date_to::date)
            )
        )
        and in_selection(site_code, sites)
        and in_selection(management_option, management)
