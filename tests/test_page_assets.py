"""ui.page_assets: the page's CSS and scripts, one file per feature, in name order."""
from comfy_ui_app.ui.page_assets import page_css, page_head


def test_css_and_scripts_are_joined_in_name_order(tmp_path):
    (tmp_path / "b.css").write_text("#b { color: red; }", encoding="utf-8")
    (tmp_path / "a.css").write_text("#a { color: blue; }", encoding="utf-8")
    (tmp_path / "z.js").write_text("window.z = 1;", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not an asset", encoding="utf-8")
    css = page_css(tmp_path)
    assert css.index("#a {") < css.index("#b {")
    assert "/* a.css */" in css and "not an asset" not in css
    assert page_head(tmp_path) == "<script>/* z.js */\nwindow.z = 1;\n</script>"


def test_an_empty_folder_gives_nothing(tmp_path):
    assert page_css(tmp_path) == "" and page_head(tmp_path) == ""
