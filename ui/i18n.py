"""English and Bahasa Indonesia for every label and message of the web UI.

``text(key, lang, **fmt)`` looks a key up in ``STRINGS`` (English when a translation is
missing, the key itself when the key is unknown, so a missing string shows up in the page
instead of raising). Indicator names come from the columns of the model's tables:
``indicator_label`` uses ``INDICATORS`` and falls back to the column name made readable, so
columns other helpers add to the tables appear without a change here. Parameter labels
and sources stay in English (they are the registry's text, cited as written).
"""

from __future__ import annotations

LANGS: dict[str, str] = {"en": "English", "id": "Bahasa Indonesia"}

STRINGS: dict[str, dict[str, str]] = {
    "app.title": {"en": "Caseload simulator: Kabupaten Bekasi", "id": "Simulator beban kerja: Kabupaten Bekasi"},
    "nav.explore": {"en": "Explore", "id": "Jelajahi"},
    "nav.districts": {"en": "Districts", "id": "Kecamatan"},
    "nav.compare": {"en": "Compare", "id": "Bandingkan"},
    "nav.sources": {"en": "Sources", "id": "Sumber"},
    "language": {"en": "Language", "id": "Bahasa"},
    "model_estimate": {"en": "Model estimate", "id": "Estimasi model"},
    # explore
    "explore.heading": {"en": "Explore a scenario", "id": "Jelajahi skenario"},
    "scenario": {"en": "Scenario", "id": "Skenario"},
    "profile": {"en": "Data profile", "id": "Profil data"},
    "scale": {"en": "Scale (share of families simulated; all facilitators are)",
              "id": "Skala (bagian keluarga yang disimulasikan; semua pendamping disimulasikan)"},
    "seed": {"en": "Seed", "id": "Benih acak (seed)"},
    "months": {"en": "Months to run", "id": "Jumlah bulan"},
    "play": {"en": "Play", "id": "Jalankan"},
    "pause": {"en": "Pause", "id": "Jeda"},
    "step": {"en": "Step", "id": "Satu bulan"},
    "reset": {"en": "Reset", "id": "Atur ulang"},
    "speed": {"en": "Speed (months per second)", "id": "Kecepatan (bulan per detik)"},
    "month_status": {"en": "Month {month} of {months} (state on {date})",
                     "id": "Bulan {month} dari {months} (keadaan per {date})"},
    "step_time": {"en": "Last step: {ms:.0f} ms server time (median {median:.0f} ms)",
                  "id": "Langkah terakhir: {ms:.0f} ms di server (median {median:.0f} ms)"},
    "pending": {"en": "Inputs changed: press Reset to start a model with them.",
                "id": "Masukan berubah: tekan Atur ulang untuk memulai model dengannya."},
    "inputs": {"en": "Inputs", "id": "Masukan"},
    "levers": {"en": "Policy levers", "id": "Kebijakan"},
    "lever_on": {"en": "Switch on", "id": "Aktifkan"},
    "group.levers": {"en": "Policy levers", "id": "Kebijakan"},
    "group.time": {"en": "Facilitator time budget", "id": "Anggaran waktu pendamping"},
    "group.quality": {"en": "Visit quality", "id": "Kualitas kunjungan"},
    "group.families": {"en": "Families", "id": "Keluarga"},
    "group.burnout": {"en": "Burnout and attrition", "id": "Burnout dan pengunduran diri"},
    "group.skills": {"en": "Skills and training", "id": "Keterampilan dan pelatihan"},
    "group.pay": {"en": "Pay and recruitment", "id": "Insentif dan rekrutmen"},
    "group.management": {"en": "Management", "id": "Manajemen"},
    "group.poverty": {"en": "Poverty", "id": "Kemiskinan"},
    "group.cost": {"en": "Cost", "id": "Biaya"},
    "charts": {"en": "Live charts", "id": "Grafik langsung"},
    "chart.poverty": {"en": "Poverty rate (%) next to BPS and the paper", "id": "Tingkat kemiskinan (%) dibanding BPS dan makalah"},
    "chart.caseload": {"en": "Caseload distribution (families per facilitator) and the 1:150 line",
                       "id": "Sebaran beban kerja (KPM per pendamping) dan garis 1:150"},
    "chart.burnout": {"en": "Burnout", "id": "Kelelahan kerja (burnout)"},
    "chart.attrition": {"en": "Attrition (% of facilitators per year)", "id": "Pengunduran diri (% pendamping per tahun)"},
    "chart.visits": {"en": "Home visits per family per month", "id": "Kunjungan rumah per keluarga per bulan"},
    "chart.training": {"en": "Training coverage", "id": "Cakupan pelatihan"},
    "chart.cost": {"en": "Cost per month (Rp)", "id": "Biaya per bulan (Rp)"},
    "chart.wisn": {"en": "Staffing need: WISN ratio (facilitators / required; below 1 = shortage)",
                   "id": "Kebutuhan tenaga: rasio WISN (pendamping / kebutuhan; di bawah 1 = kekurangan)"},
    "chart.other": {"en": "Any indicator", "id": "Indikator lain"},
    "indicator": {"en": "Indicator", "id": "Indikator"},
    "facilitators": {"en": "Facilitators", "id": "Pendamping"},
    "downloads": {"en": "Downloads", "id": "Unduhan"},
    "dl.regency_csv": {"en": "Regency table (CSV)", "id": "Tabel kabupaten (CSV)"},
    "dl.districts_csv": {"en": "District table (CSV)", "id": "Tabel kecamatan (CSV)"},
    "dl.regency_parquet": {"en": "Regency table (Parquet)", "id": "Tabel kabupaten (Parquet)"},
    "dl.districts_parquet": {"en": "District table (Parquet)", "id": "Tabel kecamatan (Parquet)"},
    "dl.scenario": {"en": "Current scenario (TOML)", "id": "Skenario saat ini (TOML)"},
    "dl.report": {"en": "HTML report", "id": "Laporan HTML"},
    "dl.compare_csv": {"en": "Comparison (CSV)", "id": "Perbandingan (CSV)"},
    "upload": {"en": "Upload a scenario file (.toml, at most {kb} KB)",
               "id": "Unggah berkas skenario (.toml, paling besar {kb} KB)"},
    "upload.ok": {"en": "Scenario '{name}' loaded.", "id": "Skenario '{name}' dimuat."},
    "upload.too_big": {"en": "error: {name}: file is {size} bytes; at most {cap} bytes are accepted",
                       "id": "error: {name}: berkas berukuran {size} byte; paling besar {cap} byte"},
    # districts
    "districts.heading": {"en": "Districts (kecamatan)", "id": "Kecamatan"},
    "districts.tiles": {"en": "Tile map laid out from the kecamatan centroids (not to scale)",
                        "id": "Peta ubin disusun dari titik tengah kecamatan (tidak berskala)"},
    "districts.polygons": {"en": "Kecamatan boundaries from {src}", "id": "Batas kecamatan dari {src}"},
    "districts.upload_geo": {"en": "Boundaries (GeoJSON, at most {mb} MB)", "id": "Batas wilayah (GeoJSON, paling besar {mb} MB)"},
    "districts.no_model": {"en": "No model yet: open Explore and press Reset or Step.",
                           "id": "Belum ada model: buka Jelajahi lalu tekan Atur ulang atau Satu bulan."},
    "districts.table": {"en": "District table, month {month}", "id": "Tabel kecamatan, bulan {month}"},
    "district": {"en": "District", "id": "Kecamatan"},
    "drill.district": {"en": "District {name}", "id": "Kecamatan {name}"},
    "drill.facilitator": {"en": "Facilitator", "id": "Pendamping"},
    "drill.family": {"en": "Family", "id": "Keluarga"},
    "drill.pick_district": {"en": "Click a tile or choose a district to drill down.",
                            "id": "Klik ubin atau pilih kecamatan untuk melihat rinciannya."},
    "drill.none": {"en": "none", "id": "tidak ada"},
    # compare
    "compare.heading": {"en": "Compare scenarios", "id": "Bandingkan skenario"},
    "compare.scenarios": {"en": "Scenarios (two or more)", "id": "Skenario (dua atau lebih)"},
    "compare.replicates": {"en": "Replicates", "id": "Ulangan"},
    "compare.run": {"en": "Run comparison", "id": "Jalankan perbandingan"},
    "compare.cancel": {"en": "Cancel", "id": "Batal"},
    "compare.progress": {"en": "{done} of {total} runs finished", "id": "{done} dari {total} run selesai"},
    "compare.cancelled": {"en": "Cancelled.", "id": "Dibatalkan."},
    "compare.need_two": {"en": "Choose at least two scenarios.", "id": "Pilih paling sedikit dua skenario."},
    "compare.busy": {"en": "The server is already running {n} comparisons (its limit); try again when one has finished.",
                     "id": "Server sedang menjalankan {n} perbandingan (batasnya); coba lagi setelah salah satu selesai."},
    "compare.failed": {"en": "error: {msg}", "id": "error: {msg}"},
    "compare.bands": {"en": "Mean and 95% interval over replicates", "id": "Rata-rata dan interval 95% antar-ulangan"},
    "compare.diffs": {"en": "Paired differences to {base} (same seeds)", "id": "Selisih berpasangan terhadap {base} (benih sama)"},
    "compare.baseline": {"en": "Baseline", "id": "Pembanding"},
    # sources
    "sources.heading": {"en": "Where every figure comes from", "id": "Asal setiap angka"},
    "sources.tags": {"en": "[S] sourced, [D] derived by arithmetic from sourced figures, [A] an assumption to calibrate. "
                             "Model outputs are model estimates.",
                     "id": "[S] bersumber, [D] diturunkan dari angka bersumber, [A] asumsi yang perlu dikalibrasi. "
                           "Keluaran model adalah estimasi model."},
    "sources.disagree": {"en": "The paper and BPS disagree", "id": "Makalah dan BPS berbeda"},
    "sources.disagree_text": {
        "en": "The paper gives a poverty rate of 6.22% for 2021 and 5.53% for 2023 (attributed to BPS); BPS's own "
              "series for Kabupaten Bekasi gives 5.21% (2021), 5.01% (2022) and 4.93% (2023). The paper counts about "
              "88,000 KPM families; Dinsos counts 72,554 PKH families in 2021 falling to 46,812 in 2023. The two data "
              "profiles keep both pictures: 'paper-2023' and 'official'.",
        "id": "Makalah menyebut tingkat kemiskinan 6,22% pada 2021 dan 5,53% pada 2023 (dikutip dari BPS); seri BPS "
              "sendiri untuk Kabupaten Bekasi: 5,21% (2021), 5,01% (2022) dan 4,93% (2023). Makalah menghitung sekitar "
              "88.000 KPM; Dinsos mencatat 72.554 keluarga PKH pada 2021 yang turun menjadi 46.812 pada 2023. Kedua "
              "profil data menyimpan kedua gambaran: 'paper-2023' dan 'official'."},
    "sources.params": {"en": "Parameters", "id": "Parameter"},
    "sources.profile": {"en": "Data profile {name}", "id": "Profil data {name}"},
    "sources.bps": {"en": "BPS poverty series, Kabupaten Bekasi", "id": "Seri kemiskinan BPS, Kabupaten Bekasi"},
    "sources.levers": {"en": "Policy lever settings", "id": "Pengaturan kebijakan"},
    "col.name": {"en": "Name", "id": "Nama"},
    "col.value": {"en": "Value", "id": "Nilai"},
    "col.default": {"en": "Default", "id": "Bawaan"},
    "col.unit": {"en": "Unit", "id": "Satuan"},
    "col.source": {"en": "Source", "id": "Sumber"},
    "col.group": {"en": "Group", "id": "Kelompok"},
    "col.label": {"en": "Meaning", "id": "Arti"},
    "col.year": {"en": "Year", "id": "Tahun"},
    "col.key": {"en": "Figure", "id": "Angka"},
    "error": {"en": "error: {msg}", "id": "error: {msg}"},
    "headline": {"en": "Compared with {base}, {name} changes {bits} over the run (model estimate).",
                 "id": "Dibandingkan dengan {base}, {name} mengubah {bits} selama simulasi (estimasi model)."},
    "headline.interval": {"en": "95% interval {lo} to {hi}", "id": "interval 95% {lo} sampai {hi}"},
    "headline.cost_rp_cum": {"en": "the cost by", "id": "biaya sebesar"},
    "headline.poverty_rate_pct": {"en": "the poverty rate by", "id": "tingkat kemiskinan sebesar"},
    "headline.graduations_cum": {"en": "graduations by", "id": "graduasi sebesar"},
}

#: labels of the facts shown when drilling down to a facilitator or a family
FACTS: dict[str, dict[str, str]] = {
    "id": {"en": "Agent id", "id": "Id agen"},
    "district": {"en": "District", "id": "Kecamatan"},
    "caseload": {"en": "Caseload (families)", "id": "Beban kerja (keluarga)"},
    "burnout": {"en": "Burnout (0-1)", "id": "Burnout (0-1)"},
    "motivation": {"en": "Motivation (0-1)", "id": "Motivasi (0-1)"},
    "technical skill": {"en": "Technical skill (0-1)", "id": "Keterampilan teknis (0-1)"},
    "psychosocial skill": {"en": "Psychosocial skill (0-1)", "id": "Keterampilan psikososial (0-1)"},
    "tenure (months)": {"en": "Tenure (months)", "id": "Masa kerja (bulan)"},
    "local": {"en": "Recruited locally", "id": "Rekrutan lokal"},
    "pay (Rp/month)": {"en": "Pay (Rp/month)", "id": "Insentif (Rp/bulan)"},
    "programmes": {"en": "Programmes", "id": "Program"},
    "welfare (x poverty line)": {"en": "Welfare (x poverty line)", "id": "Kesejahteraan (x garis kemiskinan)"},
    "poor": {"en": "Poor", "id": "Miskin"},
    "behaviour: edu": {"en": "Behaviour: education", "id": "Perilaku: pendidikan"},
    "behaviour: health": {"en": "Behaviour: health", "id": "Perilaku: kesehatan"},
    "behaviour: fin": {"en": "Behaviour: household finance", "id": "Perilaku: keuangan keluarga"},
    "compliant": {"en": "Met PKH conditions", "id": "Memenuhi komitmen PKH"},
    "months since visit": {"en": "Months since the last visit", "id": "Bulan sejak kunjungan terakhir"},
}

#: labels of the indicators (table columns); a column missing here is shown by its name
INDICATORS: dict[str, dict[str, str]] = {
    "poverty_rate_pct": {"en": "Poverty rate (%)", "id": "Tingkat kemiskinan (%)"},
    "poor_people": {"en": "Poor people", "id": "Penduduk miskin"},
    "population": {"en": "Population", "id": "Penduduk"},
    "families": {"en": "KPM families (simulated)", "id": "KPM (disimulasikan)"},
    "kpm_persons": {"en": "KPM persons", "id": "Jiwa KPM"},
    "kpm_poverty_rate": {"en": "Share of KPM families poor", "id": "Bagian KPM yang miskin"},
    "facilitators": {"en": "Facilitators (simulated)", "id": "Pendamping (disimulasikan)"},
    "posts": {"en": "Posts", "id": "Formasi"},
    "vacancies": {"en": "Vacant posts", "id": "Formasi kosong"},
    "unassigned_families": {"en": "Families without a facilitator", "id": "Keluarga tanpa pendamping"},
    "caseload_mean": {"en": "Caseload, mean", "id": "Beban kerja, rata-rata"},
    "caseload_p95": {"en": "Caseload, 95th percentile", "id": "Beban kerja, persentil 95"},
    "caseload_max": {"en": "Caseload, largest", "id": "Beban kerja, terbesar"},
    "share_fac_over_cap": {"en": "Facilitators above 1:150", "id": "Pendamping di atas 1:150"},
    "visits_per_family": {"en": "Home visits per family per month", "id": "Kunjungan rumah per keluarga per bulan"},
    "share_unvisited_3m": {"en": "Families unvisited 3+ months", "id": "Keluarga tidak dikunjungi 3+ bulan"},
    "visit_quality_mean": {"en": "Visit quality, mean", "id": "Kualitas kunjungan, rata-rata"},
    "load_ratio_mean": {"en": "Load ratio, mean", "id": "Rasio beban, rata-rata"},
    "share_time_admin": {"en": "Share of time on administration", "id": "Bagian waktu untuk administrasi"},
    "burnout_mean": {"en": "Burnout, mean (0-1)", "id": "Burnout, rata-rata (0-1)"},
    "share_burned_out": {"en": "Burned out (B > 0.5)", "id": "Mengalami burnout (B > 0,5)"},
    "motivation_mean": {"en": "Motivation, mean", "id": "Motivasi, rata-rata"},
    "skill_technical_mean": {"en": "Technical skill, mean", "id": "Keterampilan teknis, rata-rata"},
    "skill_psychosocial_mean": {"en": "Psychosocial skill, mean", "id": "Keterampilan psikososial, rata-rata"},
    "share_trained_12m": {"en": "Trained in the last 12 months", "id": "Dilatih dalam 12 bulan terakhir"},
    "share_untrained_since_start": {"en": "Untrained since the start", "id": "Belum dilatih sejak awal"},
    "trained": {"en": "Trained this month", "id": "Dilatih bulan ini"},
    "hires": {"en": "Hires", "id": "Rekrutmen"},
    "quits": {"en": "Quits", "id": "Berhenti"},
    "quits_cum": {"en": "Quits, cumulative", "id": "Berhenti, kumulatif"},
    "attrition_pct_year": {"en": "Attrition (% per year)", "id": "Tingkat berhenti (% per tahun)"},
    "share_unvisited_6m": {"en": "Families unvisited 6+ months", "id": "Keluarga tidak dikunjungi 6+ bulan"},
    "burnout_family_mean": {"en": "Burnout of the family's facilitator", "id": "Burnout pendamping keluarga"},
    "p2k2_coverage": {"en": "P2K2 sessions held (share)", "id": "Sesi P2K2 terlaksana (bagian)"},
    "cost_apbn_rp_month": {"en": "Cost paid from APBN (Rp per month)", "id": "Biaya dari APBN (Rp per bulan)"},
    "cost_apbd_rp_month": {"en": "Cost paid from APBD (Rp per month)", "id": "Biaya dari APBD (Rp per bulan)"},
    "compliance_rate": {"en": "PKH compliance", "id": "Kepatuhan PKH"},
    "behaviour_mean": {"en": "Family behaviour, mean", "id": "Perilaku keluarga, rata-rata"},
    "graduations": {"en": "Graduations", "id": "Graduasi"},
    "graduations_cum": {"en": "Graduations, cumulative", "id": "Graduasi, kumulatif"},
    "exits": {"en": "Exits", "id": "Keluar"},
    "entries": {"en": "Entries", "id": "Masuk"},
    "cost_rp_month": {"en": "Cost per month (Rp)", "id": "Biaya per bulan (Rp)"},
    "cost_rp_cum": {"en": "Cost, cumulative (Rp)", "id": "Biaya, kumulatif (Rp)"},
    "cost_per_graduation_rp": {"en": "Cost per graduated family (Rp)", "id": "Biaya per keluarga graduasi (Rp)"},
    "wisn_required": {"en": "Facilitators required (WISN)", "id": "Kebutuhan pendamping (WISN)"},
    "wisn_ratio": {"en": "WISN ratio", "id": "Rasio WISN"},
    "wisn_shortage": {"en": "WISN shortage (facilitators)", "id": "Kekurangan WISN (pendamping)"},
}


def text(key: str, lang: str = "en", **fmt: object) -> str:
    """The string ``key`` in ``lang`` (English if untranslated, the key if unknown), formatted."""
    entry = STRINGS.get(key)
    if entry is None:
        s = key
    else:
        s = entry.get(lang) or entry["en"]
    return s.format(**fmt) if fmt else s


def indicator_label(column: str, lang: str = "en") -> str:
    """A readable label for a table column (its name, made readable, when it has no label)."""
    entry = INDICATORS.get(column)
    if entry is not None:
        return entry.get(lang) or entry["en"]
    return column.replace("_", " ").capitalize()


def fact_label(key: str, lang: str = "en") -> str:
    """A drill-down fact's label (the key itself when it has none)."""
    entry = FACTS.get(key)
    return (entry.get(lang) or entry["en"]) if entry else key


def group_label(group: str, lang: str = "en") -> str:
    """A parameter group's title."""
    key = f"group.{group}"
    return text(key, lang) if key in STRINGS else group.replace("_", " ").capitalize()
