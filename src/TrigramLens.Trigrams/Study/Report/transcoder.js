// TrigramLens study page: section 9, the sparse transcoder (filled in below when the data has one).
(function (root) {
  "use strict";
  const S = root.TrigramLensStudy;
  S.TranscoderDashboard = null;
})(window);
