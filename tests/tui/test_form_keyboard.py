"""Hostile review of the lazy "more settings" group: keyboard only, at 80x24."""

from lab_workbench.engine.settings.config import TrainConfig
from tests.tui.fake import fake_train
from lab_workbench.tui.app import make_app
from lab_workbench.tui.widgets.config_form import COMMON, ConfigForm, form_settings

RARE = [s.name for s in form_settings() if s.name not in COMMON]


async def test_tab_and_enter_open_the_group_build_its_fields_and_an_edit_reaches_the_config(tmp_path):
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), trainer=fake_train)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(60):  # Tab until the group's title has the focus
            if app.screen.focused is not None and type(app.screen.focused).__name__ == "CollapsibleTitle":
                break
            await pilot.press("tab")
        assert type(app.screen.focused).__name__ == "CollapsibleTitle"
        await pilot.press("enter")  # opens the group; it does not start the run
        await pilot.pause()
        assert type(app.screen).__name__ == "NewRunScreen"
        assert not app.screen.query_one("#form-more").collapsed
        await pilot.press("tab")
        assert app.screen.focused.id == f"f-{RARE[0]}"
        field = next(n for n in RARE if app.screen.query_one(f"#f-{n}").__class__.__name__ == "Input"
                     and n in ("seed", "patience", "weight_decay"))
        app.screen.query_one(f"#f-{field}").focus()
        await pilot.pause()
        app.screen.query_one(f"#f-{field}").value = ""
        await pilot.press(*"7")
        assert getattr(app.screen.query_one(ConfigForm).config(), field) in (7, 7.0)
