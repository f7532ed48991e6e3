//! Where each part of the screen goes, from the terminal's size alone: the view
//! draws there, and the update scrolls and places the mouse by the same measure.

use ratatui::layout::{Constraint, Layout, Rect};

/// Where each part of the screen is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    /// The search's prompt, or a page's two-line header.
    pub top: Rect,
    /// The search's matches, or a page's tree.
    pub list: Rect,
    /// The source pane (none while searching, or on a screen too low).
    pub source: Rect,
    pub status: Rect,
}

/// The screen's parts for a terminal of `size`.
pub fn layout(size: Rect, searching: bool) -> Areas {
    if searching {
        let [top, list, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .areas(size);
        return Areas {
            top,
            list,
            source: Rect::default(),
            status,
        };
    }
    let source_height = if size.height >= 14 {
        (size.height * 2 / 5).max(6)
    } else {
        0
    };
    let [top, list, source, status] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(source_height),
        Constraint::Length(1),
    ])
    .areas(size);
    Areas {
        top,
        list,
        source,
        status,
    }
}
