# Semantic segmentation on synthetic rooms (96x128) with the HAD reference
# encoder-decoder, as a plain mmseg EncoderDecoder: the single-task
# baseline of the tool tests and of `tools/test.py --tta`.
_base_ = [
    '../_base_/models/aspp_r18-d8.py',
    '../_base_/datasets/synthetic_rooms_seg.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_1k.py'
]
