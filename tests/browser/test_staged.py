"""The staged models list: search as you type, sort, keyset paging, history; activation."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from domain.platform.demo import image_bytes
from domain.staging.activation import activate
from tests.browser.support import UI, put_many, roster, staged_row, synced_demo
from tests.conftest import Bucket, rows

ROWS = "#staged-table tbody tr[id^=row-]"
MODELS = 30


def names(page: Page) -> Locator:
    return page.locator(f"{ROWS} td:nth-child(3)")


async def test_search_sort_page_and_history(ui: UI, app_data: Bucket) -> None:
    tiny = image_bytes("x", 0.6, (40, 40))
    await put_many(app_data.s3, [(key, tiny) for key in roster(MODELS)])
    assert (await app_data.sync()).status == "succeeded"
    by_posts = [
        r["folder_name"]
        for r in await rows("SELECT folder_name FROM whitelabel_models ORDER BY post_count, id")
    ]
    by_name = [
        r["folder_name"]
        for r in await rows("SELECT folder_name FROM whitelabel_models ORDER BY folder_name, id")
    ]
    page = ui.page
    summary = page.locator("#staged-summary")
    await ui.sign_in()
    await ui.goto("/staged")
    await expect(names(page)).to_have_text(by_name[:25])
    await expect(summary).to_have_text("1–25 of 30")
    await ui.mark_document()

    search = page.get_by_role("searchbox", name="Search models")
    await search.press_sequentially("Model 01", delay=30)
    await expect(page).to_have_url(re.compile(r"/staged\?(.*&)?q=Model(\+|%20)01(&|$)"))
    await expect(names(page)).to_have_text([n for n in by_name if "Model 01" in n])
    await expect(summary).to_have_text("1–10 of 10")
    await search.fill("Model 999")
    await expect(page.get_by_text("No staged model matches these filters.")).to_be_visible()
    await search.fill("")
    await expect(summary).to_have_text("1–25 of 30")

    await page.locator("#staged-table thead").get_by_role("link", name="Posts").click()
    await expect(page).to_have_url(re.compile(r"[?&]sort=posts(&|$)"))
    await expect(page).to_have_url(re.compile(r"[?&]dir=asc(&|$)"))
    await expect(names(page)).to_have_text(by_posts[:25])

    pager = page.get_by_role("navigation", name="Pages")
    await pager.get_by_role("link", name="Next →").click()
    await expect(page).to_have_url(re.compile(r"[?&]after=[\w-]+"))
    await expect(names(page)).to_have_text(by_posts[25:])
    await expect(summary).to_have_text("26–30 of 30")
    await expect(pager.get_by_text("Next →")).to_have_attribute("aria-disabled", "true")
    after_url = page.url

    await pager.get_by_role("link", name="← Previous").click()
    await expect(page).to_have_url(re.compile(r"[?&]before=[\w-]+"))
    await expect(names(page)).to_have_text(by_posts[:25])
    before_url = page.url

    await page.get_by_label("Per page").select_option("10")
    await expect(page).to_have_url(re.compile(r"[?&]size=10(&|$)"))
    await expect(page).to_have_url(re.compile(r"[?&]sort=posts(&|$)"))
    await expect(page).not_to_have_url(re.compile(r"[?&](after|before)="))
    await expect(names(page)).to_have_text(by_posts[:10])
    await expect(summary).to_have_text("1–10 of 30")
    await ui.screenshot("staged")

    await page.go_back()
    await expect(page).to_have_url(before_url)
    await expect(names(page)).to_have_text(by_posts[:25])
    await expect(page.get_by_label("Per page")).to_have_value("25")
    await page.go_back()
    await expect(page).to_have_url(after_url)
    await expect(names(page)).to_have_text(by_posts[25:])
    await page.go_forward()
    await expect(page).to_have_url(before_url)
    await expect(names(page)).to_have_text(by_posts[:25])
    assert await ui.same_document(), "a search, sort or page change reloaded the whole page"

    # The URL is the state: loading it afresh shows the same page.
    await page.reload()
    await expect(names(page)).to_have_text(by_posts[:25])
    await expect(page.get_by_label("Per page")).to_have_value("25")


async def test_activate_one_row_then_all_new(ui: UI, app_data: Bucket) -> None:
    want = await synced_demo(app_data)
    page = ui.page
    await ui.sign_in()
    await ui.goto("/staged")
    await expect(page.locator(ROWS)).to_have_count(want.models)
    await expect(page.locator(f"{ROWS} .badge")).to_have_text(["new"] * want.models)
    await ui.mark_document()
    await page.evaluate("""document.querySelectorAll("#staged-table tr[id^=row-]")
                             .forEach((tr) => { tr.dataset.before = "1"; })""")

    aurora = staged_row(page, "Aurora Vale")
    await aurora.get_by_role("button", name="Activate").click()
    await expect(aurora.locator(".badge")).to_have_text("active")
    await expect(aurora.get_by_role("button", name="Re-activate")).to_be_visible()
    await expect(page.locator("#toasts .toast-success")).to_contain_text(
        "Aurora Vale: 1 model(s) activated: 6 post(s) created"
    )
    # Only that row was swapped; the others are the same DOM nodes as before.
    await expect(aurora).not_to_have_attribute("data-before", "1")
    await expect(page.locator(f"{ROWS}[data-before]")).to_have_count(want.models - 1)
    assert await ui.same_document()

    await page.get_by_role("link", name="Production", exact=True).click()
    await expect(page).to_have_url(ui.url("/production"))
    production = page.locator("#production-list tbody tr")
    await expect(production.locator("td:nth-child(3)")).to_have_text(["Aurora Vale"])
    await expect(production.locator(".badge")).to_have_text(["public"])

    await ui.goto("/staged")
    await ui.mark_document()
    ui.accept_confirms = True
    await page.get_by_role("link", name=f"Activate all new ({want.models - 1})").click()
    # The server queues a job and answers with its progress panel, which polls until it ends;
    # then the list and the button refresh themselves.
    await expect(page.locator("#toasts .toast-info")).to_contain_text(
        f"Activating {want.models - 1} model(s) in the background (all new models)"
    )
    panel = page.locator("#bulk-slot section[data-bulk]")
    await expect(panel).to_contain_text("Activation #1 · all new models")
    await expect(panel).to_have_attribute("data-status", "succeeded", timeout=30_000)
    done = want.models - 1
    await expect(panel).to_contain_text(f"{done} of {done} model(s) activated")
    await expect(page.locator(f"{ROWS} .badge")).to_have_text(["active"] * want.models)
    await expect(page.get_by_role("link", name="Activate all new (0)")).to_be_visible()
    assert ui.confirms == [
        f"Activate all {want.models - 1} new model(s) into production? "
        "They go public on the site as each is done."
    ]
    assert await ui.same_document()
    await ui.goto("/production")
    await expect(page.get_by_text(f"1–{want.models} of {want.models} model(s)")).to_be_visible()


async def test_activate_selected_rows(ui: UI, app_data: Bucket) -> None:
    want = await synced_demo(app_data)
    page = ui.page
    await ui.sign_in()
    await ui.goto("/staged")
    activate_selected = page.get_by_role("button", name="Activate selected")
    await expect(activate_selected).to_be_disabled()
    await page.get_by_label("Select Bruno Díaz").check()
    await page.get_by_label("Select Chloé Martin").check()
    await expect(page.locator("#selection-count")).to_have_text("2", timeout=3000)
    await expect(activate_selected).to_be_enabled()
    ui.accept_confirms = True
    await activate_selected.click()
    assert ui.confirms == [
        "Activate 2 selected model(s) into production? 2 go public on the site as each is done."
    ]
    # The server answers HX-Refresh: the page reloads and shows the flash message.
    await expect(page.locator("#toasts .toast-success")).to_contain_text(
        "2 model(s) activated: 9 post(s) created"
    )
    for name in ("Bruno Díaz", "Chloé Martin"):
        await expect(staged_row(page, name).locator(".badge")).to_have_text("active")
    await expect(page.locator(f"{ROWS} .badge", has_text="new")).to_have_count(want.models - 2)
    await expect(page.locator("#selection-count")).to_have_text("0")

    await page.get_by_label("Select all on this page").check()
    await expect(page.locator("#selection-count")).to_have_text(str(want.models))

    await ui.goto("/production")
    production = page.locator("#production-list tbody tr")
    await expect(production.locator("td:nth-child(3)")).to_have_text(["Bruno Díaz", "Chloé Martin"])
    await expect(production.locator(".badge")).to_have_text(["public"] * 2)


async def test_back_and_forward_restore_the_controls(ui: UI, app_data: Bucket) -> None:
    tiny = image_bytes("x", 0.6, (40, 40))
    await put_many(app_data.s3, [(key, tiny) for key in roster(MODELS)])
    assert (await app_data.sync()).status == "succeeded"
    await activate([f"Model {i:03d}" for i in (2, 3, 5, 7)])  # 26 stay new
    page = ui.page
    summary = page.locator("#staged-summary")
    search = page.get_by_role("searchbox", name="Search models")
    status, size = page.get_by_label("Status"), page.get_by_label("Per page")
    await ui.sign_in()
    await ui.goto("/staged")
    await ui.mark_document()

    await size.select_option("10")
    await expect(summary).to_have_text("1–10 of 30")
    await status.select_option("new")
    await expect(summary).to_have_text("1–10 of 26")
    await search.fill("Model 0")
    await expect(page).to_have_url(re.compile(r"[?&]q=Model(\+|%20)0(&|$)"))
    filtered_url = page.url
    await page.locator("#staged-table thead").get_by_role("link", name="Posts").click()
    await expect(page).to_have_url(re.compile(r"[?&]sort=posts(&|$)"))
    await page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next →").click()
    await expect(summary).to_have_text("11–20 of 26")

    await page.go_back()
    await expect(page).to_have_url(re.compile(r"[?&]sort=posts(&|$)"))
    await expect(summary).to_have_text("1–10 of 26")
    await page.go_back()
    await expect(page).to_have_url(filtered_url)
    await expect(summary).to_have_text("1–10 of 26")
    # The controls say what the URL says, not what they showed when the page first loaded.
    await expect(search).to_have_value("Model 0")
    await expect(status).to_have_value("new")
    await expect(size).to_have_value("10")

    # A further change keeps the filters (and the sort) of the page it starts from.
    await size.select_option("25")
    await expect(page).to_have_url(re.compile(r"[?&]size=25(&|$)"))
    await expect(page).to_have_url(re.compile(r"[?&]status=new(&|$)"))
    await expect(page).to_have_url(re.compile(r"[?&]q=Model(\+|%20)0(&|$)"))
    await expect(page).to_have_url(re.compile(r"[?&]sort=name(&|$)"))
    await expect(summary).to_have_text("1–25 of 26")
    await expect(page.locator(f"{ROWS} .badge")).to_have_text(["new"] * 25)

    await page.go_back()  # and Forward/Back keep agreeing with the URL
    await expect(page).to_have_url(filtered_url)
    await expect(size).to_have_value("10")
    await page.go_forward()
    await expect(size).to_have_value("25")
    await expect(status).to_have_value("new")
    assert await ui.same_document(), "a control change or Back reloaded the whole page"


async def test_one_ticked_row_then_every_model_matching_the_filters(
    ui: UI, app_data: Bucket
) -> None:
    tiny = image_bytes("x", 0.6, (40, 40))
    keys = roster(20, "Anna") + roster(10, "Ben")
    await put_many(app_data.s3, [(key, tiny) for key in keys])
    assert (await app_data.sync()).status == "succeeded"
    page = ui.page
    summary = page.locator("#staged-summary")
    count = page.locator("#selection-count")
    banner = page.locator("[data-select-banner]")
    activate_selected = page.get_by_role("button", name="Activate selected")
    await ui.sign_in()
    await ui.goto("/staged?q=anna&size=10")
    await expect(summary).to_have_text("1–10 of 20")

    await page.get_by_label("Select Anna 003").check()  # exactly one ticked box
    await expect(count).to_have_text("1")
    await expect(banner).to_be_hidden()
    ui.accept_confirms = True
    await activate_selected.click()
    await expect(page.locator("#toasts .toast-success")).to_contain_text("1 model(s) activated")
    await expect(staged_row(page, "Anna 003").locator(".badge")).to_have_text("active")
    await ui.mark_document()

    await page.get_by_label("Select all on this page").check()
    await expect(count).to_have_text("10")
    await expect(banner).to_contain_text("All 10 models on this page are selected.")
    await banner.get_by_role("link", name="Select all 20 matching").click()
    await expect(banner).to_contain_text("All 20 models matching these filters are selected.")
    await expect(count).to_have_text("20")
    await banner.get_by_role("button", name="Clear selection").click()
    await expect(count).to_have_text("0")
    await expect(banner).to_be_hidden()
    await expect(activate_selected).to_be_disabled()

    await page.get_by_label("Select all on this page").check()
    await banner.get_by_role("link", name="Select all 20 matching").click()
    await expect(count).to_have_text("20")
    await ui.screenshot("staged-select-matching")
    ui.accept_confirms = True
    await activate_selected.click()
    panel = page.locator("#bulk-slot section[data-bulk]")
    await expect(panel).to_contain_text("name contains “anna”")
    await expect(panel).to_have_attribute("data-status", "succeeded", timeout=30_000)
    await expect(panel).to_contain_text("20 of 20 model(s) activated")
    await expect(page.locator(f"{ROWS} .badge")).to_have_text(["active"] * 10)  # list refreshed
    assert ui.confirms == [
        "Activate 1 selected model(s) into production? 1 go public on the site as each is done.",
        "Activate all 20 staged models matching these filters into production? "
        "They go public on the site as each is done.",
    ]
    found = await rows("SELECT folder_name, status FROM whitelabel_models ORDER BY folder_name")
    assert {r["folder_name"] for r in found if r["status"] == "active"} == {
        f"Anna {i:03d}" for i in range(1, 21)
    }
    assert all(r["status"] == "new" for r in found if r["folder_name"].startswith("Ben"))
    assert await ui.same_document()


async def test_row_resync_shows_its_result_in_place(ui: UI, app_data: Bucket) -> None:
    await synced_demo(app_data)
    before = (
        await rows("SELECT post_count FROM whitelabel_models WHERE folder_name = $1", "Aurora Vale")
    )[0]
    tiny = image_bytes("y", 0.3, (40, 40))
    await put_many(
        app_data.s3, [("Aurora Vale/Extra One/a.jpg", tiny), ("Aurora Vale/Extra Two/b.jpg", tiny)]
    )
    page = ui.page
    await ui.sign_in()
    await ui.goto("/staged")
    await ui.mark_document()
    aurora = staged_row(page, "Aurora Vale")
    await aurora.get_by_role("button", name="Re-sync").click()
    await expect(page.locator("#toasts .toast-info")).to_contain_text(
        "Re-sync of Aurora Vale queued"
    )
    result = aurora.get_by_role("status")
    await expect(result).to_contain_text("synced: 2 posts added", timeout=30_000)
    await expect(aurora.locator("td:nth-child(4)")).to_have_text(str(before["post_count"] + 2))
    await expect(aurora.get_by_role("button", name="Re-sync")).to_be_visible()
    await ui.screenshot("staged-row-resync")
    assert await ui.same_document()
