// Posts the contextual-access form (DMP web PS, DRIMbox) as soon as the page is shown: the DPI
// rendered its fields (the signed assertion, the patient), the national service opens in this tab.
document.querySelectorAll("form[data-autopost]").forEach((form) => form.submit());
