"""The New-run form merges a recipe with its fields by `lab train`'s rule: a field the user edited wins, even
when its new value is the default (it used to be overwritten by the recipe's value)."""

from lab_workbench.engine.settings.config import config_from_text
from tests.helpers import MNIST_DIR
from tests.tui.fake import fake_train
from lab_workbench.tui.app import make_app
from lab_workbench.tui.widgets.config_form import ConfigForm


async def test_the_form_and_lab_train_give_one_config_for_a_recipe_and_edited_fields(tmp_path):
    where = {"data_dir": str(MNIST_DIR.parent), "runs_dir": str(tmp_path / "runs")}
    initial = config_from_text({"recipe": "fast", "dataset": "mnist", **where})  # labtui --recipe fast -d mnist
    app = make_app(initial, trainer=fake_train)
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.screen.query_one(ConfigForm)
        form.query_one("#f-lr").value = "0.001"  # back to the default: an edit all the same
        form.query_one("#f-epochs").value = "3"
        await pilot.pause()
        got = form.config()
    want = config_from_text({"recipe": "fast", "dataset": "mnist", "lr": "0.001", "epochs": "3", **where})
    assert got == want and (got.lr, got.epochs, got.model) == (0.001, 3, "fastcnn")


async def test_choosing_a_recipe_in_the_form_fills_the_fields_not_edited(tmp_path):
    where = {"data_dir": str(MNIST_DIR.parent), "runs_dir": str(tmp_path / "runs")}
    app = make_app(config_from_text({"dataset": "mnist", **where}), trainer=fake_train)
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.screen.query_one(ConfigForm)
        form.query_one("#f-recipe").value = "fast"
        form.query_one("#f-batch_size").value = "32"
        await pilot.pause()
        got = form.config()
    assert got == config_from_text({"recipe": "fast", "dataset": "mnist", "batch_size": "32", **where})
