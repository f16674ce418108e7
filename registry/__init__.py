"""The registry of 评比达标表彰项目 and its cleanup (issue 22, document 003).

Layer: between core and campaigns (tests/test_layers.py): it imports only core and Django;
campaigns imports it for the freeze (registry/freeze.py) and Campaign.activity.

Who: role 清理办公室 (the joint meeting's office, e.g. 纪委纠风室: manage and review), role
举办单位 (a department, linked to its organiser in the admin's 举办单位账号), and everyone with
registry.view_cleanup (评议办公室, 领导, 审计) reading.

Pages: /reg/ (cleanups), /reg/<slug>/ (stages, 自查统计表, rounds, outcome, 通报, 公示),
/reg/<slug>/activities/ (the reviewers' list with the screening notes), an activity's page
(its timeline, the decision form), a round's page (同意上一轮意见, closing), /reg/<slug>/mine/
(a department's own activities, the form, 报送自查), /reg/<slug>/import/ (the 自查登记表,
layout in registry/imports.py), /p/reg/<slug>/ (the published list, no login).

Commands: create_cleanup, import_activities, cleanup_report; create_campaign takes
--activity or --override-reason while a cleanup is in progress."""
