"""The New-run form's "more settings" group, whose fields are built only when it is first opened."""

from lab_workbench.engine.settings.config import TrainConfig
from tests.tui.fake import fake_train
from lab_workbench.tui.app import make_app
from lab_workbench.tui.widgets.config_form import COMMON, ConfigForm, form_settings

RARE = [s.name for s in form_settings() if s.name not in COMMON]
# rare settings away from their defaults, one of each kind: text, integer, number, list, select, on/off
CHANGED = dict(epochs=1, optimizer="sgd", momentum=0.5, nesterov=True, seed=7, classes=[1, 2, 3], activation="gelu",
               device="cpu", weight_decay=1e-4, patience=3, images_key="x")


async def test_the_rare_fields_are_built_when_first_shown_and_tab_reaches_each_in_order(tmp_path):
    app = make_app(TrainConfig(runs_dir=str(tmp_path / "runs")), trainer=fake_train)
    async with app.run_test(size=(80, 24)) as pilot:
        assert len(app.screen.query("#f-lr")) == 1 and len(app.screen.query("#f-momentum")) == 0
        assert app.screen.focused.id == "start"
        await pilot.click("#form-more CollapsibleTitle")
        await pilot.pause()
        assert [len(app.screen.query(f"#f-{name}")) for name in RARE] == [1] * len(RARE)
        chain = app.screen.focus_chain  # the order Tab follows
        title = chain.index(app.screen.query_one("#form-more CollapsibleTitle"))
        assert [w.id for w in chain[title + 1:title + 1 + len(RARE)]] == [f"f-{name}" for name in RARE]
        await pilot.press("tab")  # from the title, which the click focused
        assert app.screen.focused.id == f"f-{RARE[0]}"


async def test_a_never_opened_form_gives_the_config_of_an_opened_one(tmp_path):
    initial = TrainConfig(runs_dir=str(tmp_path / "runs"), **CHANGED)
    app = make_app(initial, trainer=fake_train)
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.screen.query_one(ConfigForm)
        unopened_values, unopened = form.values(), form.config()
        await pilot.click("#form-more CollapsibleTitle")
        await pilot.pause()
        assert form.query_one("#f-momentum").value == "0.5"
        assert form.values() == unopened_values
        assert form.config() == unopened
    assert unopened == initial and {n: getattr(unopened, n) for n in CHANGED} == CHANGED


async def test_an_invalid_rare_setting_opens_its_group_and_focuses_its_field(tmp_path):
    app = make_app(TrainConfig(dataset="mnist", data_dir=str(tmp_path / "nowhere"), runs_dir=str(tmp_path / "r")),
                   trainer=fake_train)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "--data-dir" in str(app.screen.query_one("#form-error").render())
        assert not app.screen.query_one("#form-more").collapsed
        field = app.screen.query_one("#f-data_dir")
        assert app.screen.focused is field and field.has_class("invalid")
        field.value = ""  # fixed: the next start clears the mark
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not field.has_class("invalid")
