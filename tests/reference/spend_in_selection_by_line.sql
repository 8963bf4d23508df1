-- The reference for queries/macros/spend_in_selection.sql (tests/test_queries.py): every spending line in
-- the selection, one by one. This was the macro itself until whole months came from spend_person_months;
-- it is kept here only so the tests can check that every spending query gives the same figures either way.
-- The spending lines for the user's selection, as a table: paid between date_from and date_to, at
-- a chosen site, from a budget under a chosen management option; each line as spend_lines holds it
-- (with the person's key and record key), its amount also split as the macro gives it: paid_gbp for a
-- payment, refunded_gbp for a refund or recovery, 0 in the other.
-- Used as spend_in_selection($date_from, $date_to, $sites, $management).
create temp macro spend_in_selection_by_line(date_from, date_to, sites, management) as table
    select
        *,
        case when amount_gbp > 0 then amount_gbp else 0 end as paid_gbp,
        case when amount_gbp < 0 then amount_gbp else 0 end as refunded_gbp
    from spend_lines
    where paid_on between date_from and date_to
        and in_selection(site_code, sites)
        and in_selection(management_option, management)
