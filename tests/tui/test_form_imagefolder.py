"""labtui's New-run form takes a folder of class folders in its data field, as `lab train --data` does."""

from lab_workbench.engine.settings.config import TrainConfig
from tests.tui.fake import fake_train
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.new_run import NewRunScreen


async def test_the_data_field_takes_an_image_folder(tmp_path):
    (tmp_path / "flat").mkdir()
    (tmp_path / "tree" / "cat").mkdir(parents=True)
    app = make_app(TrainConfig(epochs=1, runs_dir=str(tmp_path / "runs")), trainer=fake_train)
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.query_one("#f-data").value = str(tmp_path / "flat")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NewRunScreen)
        assert "flat: no images found (expected class_name/" in str(app.screen.query_one("#form-error").render())
        app.screen.query_one("#f-data").value = str(tmp_path / "tree")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, NewRunScreen)  # accepted: the run starts
