//! Finer input commands of the Interaction group: dblclick, check/uncheck, focus, clear,
//! keydown/keyup, drag and the raw mouse (`mouse move|down|up|wheel`).
//!
//! gstack has none of these; they follow Playwright's semantics (`locator.dblclick`,
//! `setChecked`, `focus`, `clear`, `keyboard.down/up`, `dragTo`, `mouse.*`), which
//! agent-browser and playwright-cli expose too. Locator actions reuse the click's
//! actionability checks (`interaction::actionable_point`); keyboard and mouse state that
//! outlives one command (held modifiers, mouse position and buttons) lives in the tab's
//! [`InputState`](crate::browser::session::InputState), as Playwright keeps it per page.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::Input;
use serde_json::{json, Value};

use super::interaction::{
    actionable_point, cdp_error, dispatch_key, fill_element, js_number, mouse_event, pointer_act,
    ActionError, NavigationWatch, NOT_INTERACTABLE,
};
use crate::browser::keys;
use crate::browser::page::{evaluate, CommandError, CommandResult, Ctx};
use crate::browser::selector::{self, action_timeout, call_function};
use crate::cdp::Tab;

use Input::{DispatchMouseEventTypeOption as Kind, MouseButton};

/// How long `drag` waits, after moving onto the target, for Chromium to report the HTML5
/// drag it started (`Input.dragIntercepted`) once the page's `dragstart` has fired.
const DRAG_START_TIMEOUT: Duration = Duration::from_secs(2);

/// `dblclick <sel>` → `Double-clicked <sel> → now at <url>`: Playwright's `dblclick`, two
/// press/release pairs with `clickCount` 1 then 2, after the click's actionability checks.
pub fn dblclick(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(sel) = args.first().filter(|s| !s.is_empty()) else {
        return Err(CommandError::usage("dblclick"));
    };
    let watch = NavigationWatch::start(&ctx.tab.cdp, &ctx.session.downloads)?;
    let done = pointer_act(ctx, sel, 2, ctx.state.input.modifiers)
        .map_err(|e| e.rewrite(NOT_INTERACTABLE))?;
    ctx.state.input.mouse = done.point;
    watch.settle_flushed(done.flushed);
    Ok(format!(
        "Double-clicked {sel} → now at {}",
        ctx.tab.events.url()
    ))
}

/// `check <sel>` → `Checked <sel>`.
pub fn check(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    set_checked(ctx, args, true)
}

/// `uncheck <sel>` → `Unchecked <sel>`.
pub fn uncheck(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    set_checked(ctx, args, false)
}

/// The checked state of a checkbox or radio (a `<label>` stands for its control) or of an
/// ARIA checkbox-like role (`aria-checked="true"`), as Playwright's `elementState('checked')`
/// reads it; `'not checkable'` for anything else.
const CHECKED_STATE: &str = r#"function() {
  const el = this.tagName === 'LABEL' && this.control ? this.control : this;
  if (el.tagName === 'INPUT' && (el.type === 'checkbox' || el.type === 'radio')) return el.checked;
  const roles = ['checkbox', 'radio', 'switch', 'menuitemcheckbox', 'menuitemradio', 'option', 'treeitem'];
  if (roles.includes(el.getAttribute('role'))) return el.getAttribute('aria-checked') === 'true';
  return 'not checkable';
}"#;

/// Playwright's `setChecked`: nothing to do when the element already is in the wanted state;
/// otherwise click it (with the click's actionability checks) and read the state again. A
/// click that did not change it (a radio cannot be unchecked; the page undid it) is an error,
/// never a success.
fn set_checked(ctx: &mut Ctx, args: &[String], want: bool) -> CommandResult {
    let name = if want { "check" } else { "uncheck" };
    let Some(sel) = args.first().filter(|s| !s.is_empty()) else {
        return Err(CommandError::usage(name));
    };
    let done = if want { "Checked" } else { "Unchecked" };
    if checked_state(ctx, sel)? == want {
        return Ok(format!("{done} {sel}"));
    }
    let watch = NavigationWatch::start(&ctx.tab.cdp, &ctx.session.downloads)?;
    let clicked = pointer_act(ctx, sel, 1, ctx.state.input.modifiers)
        .map_err(|e| e.rewrite(NOT_INTERACTABLE))?;
    ctx.state.input.mouse = clicked.point;
    watch.settle_flushed(clicked.flushed);
    if checked_state(ctx, sel)? != want {
        return Err(CommandError::failed_with_hint(
            format!(
                "Clicking the checkbox did not change its state: {sel} is still {}",
                if want { "unchecked" } else { "checked" }
            ),
            if want {
                "The page may undo the click (a script resets it); check what 'browse is checked' says after interacting some other way."
            } else {
                "A radio button cannot be unchecked by clicking it: check another radio of its group instead."
            },
        ));
    }
    Ok(format!("{done} {sel}"))
}

/// Whether `sel` is checked now (waiting up to [`action_timeout()`] for it to exist).
fn checked_state(ctx: &Ctx, sel: &str) -> Result<bool, CommandError> {
    let element = selector::find_one(ctx, sel, action_timeout())
        .map_err(|e| not_found_rewrite(e, NOT_INTERACTABLE))?;
    match call_function(element.session(), &element.object_id, CHECKED_STATE)? {
        Value::Bool(checked) => Ok(checked),
        _ => Err(CommandError::failed_with_hint(
            format!("Not a checkbox or radio button: {sel}"),
            "check/uncheck take an <input type=checkbox|radio>, its <label>, or an element with role=checkbox|radio|switch.",
        )),
    }
}

/// A lookup that found nothing in time reads as `message`; other errors (strictness, refs)
/// stay as they are.
fn not_found_rewrite(error: CommandError, message: &str) -> CommandError {
    if selector::is_timeout(&error) {
        CommandError::failed(message)
    } else {
        error
    }
}

/// Focuses the element and says whether it now holds the focus (itself, or inside it for a
/// shadow host).
const FOCUS: &str = r#"function() {
  this.focus();
  let active = document.activeElement;
  while (active && active.shadowRoot && active.shadowRoot.activeElement) active = active.shadowRoot.activeElement;
  return active === this || this.contains(active) || (this.shadowRoot ? this.shadowRoot.contains(active) : false);
}"#;

/// `focus <sel>` → `Focused <sel>`: Playwright's `locator.focus()` (the element's own
/// `focus()`, no actionability wait beyond existing). Unlike Playwright, an element that
/// cannot take the focus is an error rather than a silent success.
///
/// gstack's `focus` is a headed-mode command that raises the browser window (Tier C); this
/// one focuses an element, as agent-browser's and playwright-cli's do.
pub fn focus(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(sel) = args.first().filter(|s| !s.is_empty()) else {
        return Err(CommandError::usage("focus"));
    };
    let element = selector::find_one(ctx, sel, action_timeout())
        .map_err(|e| not_found_rewrite(e, NOT_INTERACTABLE))?;
    let focused = call_function(element.session(), &element.object_id, FOCUS)?;
    if focused != Value::Bool(true) {
        return Err(CommandError::failed_with_hint(
            format!("Element {sel} cannot take the focus"),
            "Only focusable elements take it: form controls, links with href, [tabindex], [contenteditable].",
        ));
    }
    Ok(format!("Focused {sel}"))
}

/// `clear <sel>` → `Cleared <sel>`: Playwright's `clear()`, a `fill` with the empty string
/// (the content is selected and deleted; `input` and `change` fire).
pub fn clear(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(sel) = args.first().filter(|s| !s.is_empty()) else {
        return Err(CommandError::usage("clear"));
    };
    let watch = NavigationWatch::start(&ctx.tab.cdp, &ctx.session.downloads)?;
    fill_element(ctx, sel, "").map_err(|e| e.rewrite(NOT_INTERACTABLE))?;
    watch.settle();
    Ok(format!("Cleared {sel}"))
}

/// `keydown <key>` → `Key down: <key>`: Playwright's `keyboard.down`. A modifier stays held
/// for later `press`, `keydown`, clicks and mouse events of this tab until `keyup`; a key
/// already down repeats (`autoRepeat`).
pub fn keydown(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(name) = args.first().filter(|s| !s.is_empty()) else {
        return Err(CommandError::usage("keydown"));
    };
    let key = named_key(name)?;
    let input = &mut ctx.state.input;
    input.modifiers |= keys::modifier_bit(name).unwrap_or(0);
    let mut event = keys::key_down(&key, input.modifiers);
    event.auto_repeat = Some(!input.pressed.insert(key.code.clone()));
    dispatch_key(&ctx.tab.cdp, event)?;
    Ok(format!("Key down: {name}"))
}

/// `keyup <key>` → `Key up: <key>`: Playwright's `keyboard.up`.
pub fn keyup(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(name) = args.first().filter(|s| !s.is_empty()) else {
        return Err(CommandError::usage("keyup"));
    };
    let key = named_key(name)?;
    let input = &mut ctx.state.input;
    input.modifiers &= !keys::modifier_bit(name).unwrap_or(0);
    input.pressed.remove(&key.code);
    dispatch_key(&ctx.tab.cdp, keys::key_up(&key, input.modifiers))?;
    Ok(format!("Key up: {name}"))
}

/// One key by its Playwright name; chords belong to `press`.
fn named_key(name: &str) -> Result<keys::Key, CommandError> {
    keys::by_name(name).ok_or_else(|| {
        CommandError::failed_with_hint(
            format!("Unknown key: \"{name}\""),
            keys::unknown_key_hint(name, false),
        )
    })
}

/// `drag <from> <to>` → `Dragged <from> → <to>`: Playwright's `dragTo`. The mouse presses on
/// the source (the hover's actionability checks), moves onto the target and releases there.
/// An HTML5 drag the page starts is intercepted (`Input.setInterceptDrags`) and dropped with
/// `Input.dispatchDragEvent`, as Playwright does in Chromium: without that, headless Chromium
/// never delivers `drop`. A pointer-event drag (sortable lists, sliders) sees the plain moves.
pub fn drag(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let (Some(from), Some(to)) = (
        args.first().filter(|s| !s.is_empty()),
        args.get(1).filter(|s| !s.is_empty()),
    ) else {
        return Err(CommandError::usage("drag"));
    };
    let source = actionable_point(ctx, from, false).map_err(|e| e.rewrite(NOT_INTERACTABLE))?;
    let modifiers = ctx.state.input.modifiers;
    let tab = Arc::clone(&ctx.tab.cdp);
    mouse_event(
        &tab,
        Kind::MouseMoved,
        source,
        MouseButton::None,
        0,
        0,
        modifiers,
    )?;
    mouse_event(
        &tab,
        Kind::MousePressed,
        source,
        MouseButton::Left,
        1,
        1,
        modifiers,
    )?;
    let result = drag_to(ctx, &tab, to, source, modifiers);
    let _ = tab.call_method(Input::SetInterceptDrags { enabled: false });
    if let Err(e) = result {
        // Never leave the button held: later clicks would be read as part of this drag.
        let _ = mouse_event(
            &tab,
            Kind::MouseReleased,
            source,
            MouseButton::Left,
            0,
            1,
            modifiers,
        );
        return Err(e);
    }
    Ok(format!("Dragged {from} → {to}"))
}

/// The move onto `to` and the release of [`drag`], with the button already down at `source`.
fn drag_to(
    ctx: &mut Ctx,
    tab: &Arc<Tab>,
    to: &str,
    source: (f64, f64),
    modifiers: u32,
) -> Result<(), CommandError> {
    // Whether the page starts an HTML5 drag: a capture listener on the window sees dragstart.
    evaluate(
        tab,
        "window.__browseDragStarted = false; addEventListener('dragstart', () => { window.__browseDragStarted = true; }, { capture: true, once: true }); 0",
        false,
    )?;
    let (sender, intercepted) = mpsc::channel::<Input::DragData>();
    let sender = std::sync::Mutex::new(sender);
    let listener = tab
        .add_event_listener(Arc::new(move |event: &Event| {
            if let Event::InputDragIntercepted(e) = event {
                if let Ok(s) = sender.lock() {
                    let _ = s.send(e.params.data.clone());
                }
            }
        }))
        .map_err(cdp_error)?;
    let outcome = (|| {
        tab.call_method(Input::SetInterceptDrags { enabled: true })
            .map_err(cdp_error)?;
        let target = actionable_point(ctx, to, false).map_err(|e| match e {
            ActionError::Fatal(e) => e,
            e => e.rewrite(NOT_INTERACTABLE),
        })?;
        // Two steps, as a hand would: the first crosses Chromium's drag threshold near the
        // source, the second arrives on the target.
        let near = (
            source.0 + (target.0 - source.0) / 2.0,
            source.1 + (target.1 - source.1) / 2.0,
        );
        mouse_event(
            tab,
            Kind::MouseMoved,
            near,
            MouseButton::Left,
            1,
            0,
            modifiers,
        )?;
        mouse_event(
            tab,
            Kind::MouseMoved,
            target,
            MouseButton::Left,
            1,
            0,
            modifiers,
        )?;
        let started = evaluate(tab, "window.__browseDragStarted === true", false)? == json!(true);
        let data = if started {
            intercepted.recv_timeout(DRAG_START_TIMEOUT).ok()
        } else {
            intercepted.try_recv().ok()
        };
        match data {
            Some(data) => {
                for kind in [
                    Input::DispatchDragEventTypeOption::DragEnter,
                    Input::DispatchDragEventTypeOption::DragOver,
                    Input::DispatchDragEventTypeOption::Drop,
                ] {
                    tab.call_method(Input::DispatchDragEvent {
                        Type: kind,
                        x: target.0,
                        y: target.1,
                        data: data.clone(),
                        modifiers: Some(modifiers),
                    })
                    .map_err(cdp_error)?;
                }
            }
            None if started => {
                return Err(CommandError::failed(format!(
                    "The page started a drag but Chromium did not hand it over within {}ms; nothing was dropped on {to}",
                    DRAG_START_TIMEOUT.as_millis()
                )));
            }
            None => {}
        }
        mouse_event(
            tab,
            Kind::MouseReleased,
            target,
            MouseButton::Left,
            0,
            1,
            modifiers,
        )?;
        ctx.state.input.mouse = target;
        Ok(())
    })();
    let _ = tab.remove_event_listener(&listener);
    outcome
}

/// `mouse move <x> <y>` | `mouse down [button]` | `mouse up [button]` | `mouse wheel <dy> [dx]`:
/// Playwright's `page.mouse`, in viewport CSS px. Down, up and wheel act where the mouse is
/// (where the last `mouse move`, click or hover left it).
pub fn mouse(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let usage = || CommandError::usage("mouse");
    let (Some(action), rest) = (args.first(), args.get(1..).unwrap_or_default()) else {
        return Err(usage());
    };
    let tab = Arc::clone(&ctx.tab.cdp);
    let input = &mut ctx.state.input;
    let held = input.buttons;
    match action.as_str() {
        "move" => {
            let [x, y] = rest else {
                return Err(usage());
            };
            let to = (coordinate("x", x)?, coordinate("y", y)?);
            let button = first_button(held);
            mouse_event(&tab, Kind::MouseMoved, to, button, held, 0, input.modifiers)?;
            input.mouse = to;
            Ok(format!("Mouse moved to {}", at(to)))
        }
        "down" | "up" => {
            let name = match rest {
                [] => "left",
                [b] => b.as_str(),
                _ => return Err(usage()),
            };
            let (button, bit) = button_named(name)?;
            let down = action == "down";
            input.buttons = if down { held | bit } else { held & !bit };
            let kind = if down {
                Kind::MousePressed
            } else {
                Kind::MouseReleased
            };
            mouse_event(&tab, kind, input.mouse, button, input.buttons, 1, input.modifiers)?;
            Ok(format!("Mouse {action} ({name}) at {}", at(input.mouse)))
        }
        "wheel" => {
            let (dy, dx) = match rest {
                [dy] => (coordinate("dy", dy)?, 0.0),
                [dy, dx] => (coordinate("dy", dy)?, coordinate("dx", dx)?),
                _ => return Err(usage()),
            };
            tab.call_method(Input::DispatchMouseEvent {
                Type: Kind::MouseWheel,
                x: input.mouse.0,
                y: input.mouse.1,
                modifiers: Some(input.modifiers),
                timestamp: None,
                button: None,
                buttons: Some(held),
                click_count: None,
                force: None,
                tangential_pressure: None,
                tilt_x: None,
                tilt_y: None,
                twist: None,
                delta_x: Some(dx),
                delta_y: Some(dy),
                pointer_Type: None,
            })
            .map_err(cdp_error)?;
            // Scrolling is applied on the compositor; two frames later the page sees it.
            evaluate(
                &tab,
                "new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))",
                true,
            )?;
            Ok(format!(
                "Mouse wheel dx={} dy={} at {}",
                number(dx),
                number(dy),
                at(input.mouse)
            ))
        }
        other => Err(CommandError::failed_with_hint(
            format!("Unknown mouse action: {other}"),
            "Use move <x> <y>, down [left|right|middle], up [left|right|middle] or wheel <dy> [dx].",
        )),
    }
}

/// A finite number of CSS px, or a clear error naming the argument.
fn coordinate(what: &str, word: &str) -> Result<f64, CommandError> {
    js_number(word)
        .filter(|n| n.is_finite() && !word.trim().is_empty())
        .ok_or_else(|| {
            CommandError::failed(format!(
                "mouse: {what} must be a number of CSS pixels, got '{word}'"
            ))
        })
}

/// A mouse button by name and its CDP `buttons` bit.
fn button_named(name: &str) -> Result<(MouseButton, u32), CommandError> {
    match name {
        "left" => Ok((MouseButton::Left, 1)),
        "right" => Ok((MouseButton::Right, 2)),
        "middle" => Ok((MouseButton::Middle, 4)),
        other => Err(CommandError::failed(format!(
            "Unknown mouse button: {other} (use left, right or middle)"
        ))),
    }
}

/// The button a move reports while `held` buttons are down (Playwright reports the first).
fn first_button(held: u32) -> MouseButton {
    if held & 1 != 0 {
        MouseButton::Left
    } else if held & 2 != 0 {
        MouseButton::Right
    } else if held & 4 != 0 {
        MouseButton::Middle
    } else {
        MouseButton::None
    }
}

/// `(x, y)` with JavaScript's number formatting.
fn at((x, y): (f64, f64)) -> String {
    format!("({}, {})", number(x), number(y))
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_and_buttons_are_checked() {
        assert_eq!(coordinate("x", "12.5").ok(), Some(12.5));
        assert_eq!(coordinate("x", "-3").ok(), Some(-3.0));
        assert!(coordinate("x", "").is_err());
        assert!(coordinate("x", "abc").is_err());
        assert!(coordinate("x", "Infinity").is_err());
        assert!(button_named("left").is_ok());
        assert!(button_named("back").is_err());
        assert_eq!(at((1.0, 2.5)), "(1, 2.5)");
    }
}
